"""The words reports and the dashboard print for codes: statuses, kinds, channels, closing codes,
and the names of the report columns, Arabic first.

What it must never do: invent a label for an unknown code (the code itself is shown instead).
"""

from __future__ import annotations

from typing import Final

from shared.events.vocabulary import Channel, ClosingCode, RequestKind, RequestStatus

STATUS: Final[dict[str, tuple[str, str]]] = {
    RequestStatus.received: ("مستلم", "Received"),
    RequestStatus.triage: ("قيد الفرز في الوحدة", "In CMU triage"),
    RequestStatus.assigned: ("محال إلى ضابط الارتباط", "With the liaison officer"),
    RequestStatus.in_progress: ("قيد المعالجة", "In progress"),
    RequestStatus.awaiting_information: ("بانتظار معلومات من مقدّم الطلب",
                                         "Awaiting information from the requester"),
    RequestStatus.responded: ("تمت الإجابة", "Responded"),
    RequestStatus.under_review: ("قيد المراجعة في الوحدة", "Under CMU review"),
    RequestStatus.closed: ("مغلق", "Closed"),
    RequestStatus.rejected: ("مرفوض (غير مقبول)", "Rejected (inadmissible)"),
}

KIND: Final[dict[str, tuple[str, str]]] = {
    RequestKind.complaint: ("شكوى", "Complaint"),
    RequestKind.suggestion: ("اقتراح", "Suggestion"),
    RequestKind.inquiry: ("استفسار", "Inquiry"),
    RequestKind.praise: ("ثناء", "Praise"),
    RequestKind.report: ("إبلاغ", "Report"),
}

CHANNEL: Final[dict[str, tuple[str, str]]] = {
    Channel.mobile_app: ("التطبيق", "Mobile app"),
    Channel.portal: ("البوابة الإلكترونية", "Portal"),
    Channel.call_center: ("مركز الاتصال", "Call center"),
    Channel.complaint_box: ("صندوق الشكاوى", "Complaint box"),
    Channel.chatbot: ("المحادثة الآلية", "Chatbot"),
    Channel.service_center: ("مركز الخدمة", "Service center"),
}

CLOSING_CODE: Final[dict[str, tuple[str, str]]] = {
    ClosingCode.resolved: ("تم الحل", "Resolved"),
    ClosingCode.partly_resolved: ("حُلّ جزئياً", "Partly resolved"),
    ClosingCode.rejected: ("رُفض", "Rejected"),
    ClosingCode.duplicate: ("مكرر", "Duplicate"),
    ClosingCode.withdrawn: ("سُحب", "Withdrawn"),
    ClosingCode.no_response_from_requester: ("لا رد من مقدّم الطلب",
                                             "No response from the requester"),
}

COLUMN: Final[dict[str, tuple[str, str]]] = {
    "governorate": ("المحافظة", "Governorate"),
    "city": ("المدينة", "City"),
    "status": ("الحالة", "Status"),
    "closing_code": ("رمز الإغلاق", "Closing code"),
    "entity": ("الجهة", "Entity"),
    "sector": ("القطاع", "Sector"),
    "kind": ("النوع", "Kind"),
    "channel": ("القناة", "Channel"),
    "day": ("اليوم", "Day"),
    "week": ("الأسبوع (يبدأ الأحد)", "Week (from Sunday)"),
    "month": ("الشهر", "Month"),
    "processing_time": ("مدة المعالجة", "Processing time"),
    "received": ("المستلمة", "Received"),
    "open": ("المفتوحة", "Open"),
    "closed": ("المغلقة", "Closed"),
    "resolved": ("المحلولة", "Resolved"),
    "resolved_pct": ("نسبة الحل %", "Resolved %"),
    "within_deadline_pct": ("نسبة الإجابة ضمن المدة %", "Answered within deadline %"),
    "first_response_median_wd": ("وسيط أول استجابة (أيام عمل)",
                                 "Median first response (working days)"),
    "resolution_median_wd": ("وسيط مدة الحل (أيام عمل)", "Median resolution (working days)"),
    "resolution_p90_wd": ("المئين 90 لمدة الحل (أيام عمل)", "Resolution p90 (working days)"),
    "escalated_level_1": ("تصعيد المستوى الأول", "Escalated, level 1"),
    "escalated_level_2": ("تصعيد المستوى الثاني", "Escalated, level 2"),
    "transfers": ("الإحالات", "Transfers"),
    "reopened": ("أعيد فتحها", "Reopened"),
    "satisfaction_mean": ("متوسط الرضا (1-5)", "Mean satisfaction (1-5)"),
    "rating_1_pct": ("نسبة تقييم 1 %", "Ratings of 1 %"),
}

NOT_CLOSED: Final = ("لم يُغلق بعد", "Not closed yet")
NONE: Final = ("غير محدد", "Not set")


def pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "ar" else pair[1]
