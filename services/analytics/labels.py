"""The words reports and the dashboard print: labels of codes (statuses, kinds, channels, closing
codes), the names of the report columns, each indicator's definition, and counted phrases
("3 أيام", "11 يوماً"), Arabic first.

Counted phrases follow CLDR's plural rules through Babel: Arabic has six forms (zero, one, two,
few, many, other) and each phrase gives its words for every form, whole, so that the dual and
the singular read as Arabic writes them ("يوم واحد", "يومان") rather than a digit before a noun.

What it must never do: invent a label for an unknown code (the code itself is shown instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from babel.numbers import format_decimal

from shared.events.vocabulary import Channel, ClosingCode, RequestKind, RequestStatus
from shared.locales import LOCALES

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
    "answered": ("أجيب عنها", "Answered"),
    "response_rate_pct": ("نسبة الاستجابة %", "Response rate %"),
    "breaches": ("تجاوز المدة", "Deadlines missed"),
    "escalated_level_1": ("تصعيد المستوى الأول", "Escalated, level 1"),
    "escalated_level_2": ("تصعيد المستوى الثاني", "Escalated, level 2"),
    "transfers": ("الإحالات", "Transfers"),
    "reopened": ("أعيد فتحها", "Reopened"),
    "chased": ("ذكّر بها مقدّموها", "Chased by their requesters"),
    "satisfaction_mean": ("متوسط الرضا (1-5)", "Mean satisfaction (1-5)"),
    "rating_1_pct": ("نسبة تقييم 1 %", "Ratings of 1 %"),
}

NOT_CLOSED: Final = ("لم يُغلق بعد", "Not closed yet")
NONE: Final = ("غير محدد", "Not set")


def pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "ar" else pair[1]


# --- what each indicator means (docs/indicators.md quotes these words; a test holds them equal) --

DEFINITION: Final[dict[str, tuple[str, str]]] = {
    "received": (
        "الطلبات التي وردت خلال الفترة، كل طلب مرة واحدة.",
        "Requests received in the period, each once."),
    "open": (
        "الطلبات التي لم تُغلق ولم تُرفض حتى الآن، أياً كان يوم ورودها.",
        "Requests not closed or rejected yet, now, whenever they were received."),
    "closed": (
        "الطلبات التي أُغلقت خلال الفترة، بأي رمز إغلاق.",
        "Requests closed in the period, with any closing code."),
    "resolved_pct": (
        "الطلبات المغلقة بحلّ ÷ الطلبات المغلقة خلال الفترة. الحل الجزئي والرفض والتكرار والسحب"
        " وعدم رد مقدّم الطلب لا تُعدّ حلاً.",
        "Requests closed as resolved ÷ requests closed in the period. Partly resolved,"
        " rejected, duplicate, withdrawn and no response from the requester are not resolved."),
    "within_deadline_pct": (
        "الطلبات التي أجيب عنها ضمن مدتها ÷ الطلبات التي حُكم على مدتها خلال الفترة: أجيب عنها،"
        " أو فاتت مدتها دون إجابة. يُحكم على كل طلب مرة واحدة، عند أول إجابة أو أول مدة تفوت،"
        " للجهة التي تحمله حينها أو عليها.",
        "Requests answered within their deadline ÷ requests whose deadline was judged in the"
        " period: answered, or overdue with no answer. Each request is judged once, at its first"
        " answer or its first missed deadline, for or against the entity holding it then."),
    "breaches": (
        "الطلبات التي فاتتها مدة الاستجابة الأولى أو مدة المعالجة لدى الجهة التي تحملها، خلال"
        " الفترة؛ كل طلب مرة واحدة لكل جهة.",
        "Requests that missed the first-response or processing deadline of the entity holding"
        " them, in the period; each request once per entity."),
    "first_response_median_wd": (
        "الوسيط بأيام العمل من ورود الطلب إلى أول إجراء من ضابط الارتباط (قبول، أو رفض اختصاص،"
        " أو سؤال، أو إجابة، أو رفض)، لأول الإجراءات خلال الفترة، دون وقت انتظار مقدّم الطلب.",
        "Median working days from receipt to the officer's first action (acceptance, refusal"
        " of jurisdiction, a question, an answer or a rejection), for first actions in the"
        " period, without the time spent waiting for the requester."),
    "resolution_median_wd": (
        "الوسيط بأيام العمل من ورود الطلب إلى إغلاقه، للطلبات المغلقة خلال الفترة، دون وقت انتظار"
        " مقدّم الطلب.",
        "Median working days from receipt to closing, for requests closed in the period,"
        " without the time spent waiting for the requester."),
    "resolution_p90_wd": (
        "تسعة من كل عشرة طلبات أُغلقت خلال الفترة أُغلقت خلال هذا العدد من أيام العمل أو أقل (من"
        " ورودها، دون وقت انتظار مقدّم الطلب).",
        "Nine in ten requests closed in the period were closed within this many working days"
        " (from receipt, without the time spent waiting for the requester)."),
    "satisfaction_mean": (
        "متوسط تقييم الطلبات (من 1 إلى 5) التي قُيّمت خلال الفترة. يُعدّ كل طلب مرة واحدة بآخر"
        " تقييم له: بعد إعادة الفتح يحلّ تقييم الإجابة الجديدة محلّ السابق، ويبقى السابق في نسبة"
        " إعادة الفتح.",
        "Mean rating (1 to 5) of the requests rated in the period. Each request counts once, by"
        " its latest rating: after a reopening, the rating of the new answer replaces the"
        " earlier one, which still shows in the reopen rate."),
    "rating_1_pct": (
        "نسبة الطلبات المقيّمة التي آخر تقييم لها 1 (غير راضٍ).",
        "Share of the rated requests whose latest rating is 1 (dissatisfied)."),
    "escalated_level_1": (
        "الطلبات التي صُعّدت إلى رئيس الجهة خلال الفترة لفوات مدتها، كل طلب مرة واحدة.",
        "Requests escalated to the entity head in the period for a missed deadline, each"
        " once."),
    "escalated_level_2": (
        "الطلبات التي صُعّدت إلى الوزير خلال الفترة لفوات مدتها، كل طلب مرة واحدة.",
        "Requests escalated to the minister in the period for a missed deadline, each once."),
    "transfers": (
        "إحالات الطلبات إلى جهة أخرى خلال الفترة، تُعدّ على الجهة التي أحالتها.",
        "Requests passed on to another entity in the period, counted against the entity that"
        " passed them on."),
    "chased": (
        "الطلبات التي ذكّر بها مقدّموها بعد فوات موعد الرد الموعود لهم، خلال الفترة؛ كل طلب مرة"
        " واحدة مهما تكرر التذكير.",
        "Requests whose requesters chased them after the answer promised to them was late, in"
        " the period; each request once however often it was chased."),
    "reopen_rate_pct": (
        "الطلبات التي أعادت الوحدة فتحها بعد تقييم 1 ÷ الطلبات المغلقة، خلال الفترة؛ كل طلب مرة"
        " واحدة.",
        "Requests reopened by the CMU after a rating of 1 ÷ requests closed, in the period;"
        " each request once."),
    "response_rate_pct": (
        "الطلبات التي أجيب عنها (بإجابة أو برفض مسبّب، كل طلب مرة واحدة مهما تعددت جولاته) ÷"
        " الطلبات الواردة، خلال الفترة. الطلب الذي لم يُجب عنه يُعدّ على الجهة، والإجابات عن طلبات"
        " وردت قبل الفترة تُعدّ أيضاً (فتتجاوز النسبة 100% حين يُنجَز المتأخر).",
        "Requests answered (by a response or a reasoned rejection, each once however many"
        " rounds it has) ÷ requests received, in the period. A request left unanswered counts"
        " against the entity; answers to requests from before the period count too (above"
        " 100 % when a backlog is cleared)."),
}
"""Each dashboard tile's definition, shown on hover and focus, and quoted in docs/indicators.md."""


# --- counted phrases ----------------------------------------------------------------------------

Phrase = Mapping[str, Mapping[str, str]]
"""Language → CLDR plural category → the words, with `{n}` where the number goes."""

DAYS: Final[Phrase] = {
    "ar": {"zero": "{n} يوم", "one": "يوم واحد", "two": "يومان", "few": "{n} أيام",
           "many": "{n} يوماً", "other": "{n} يوم"},
    "en": {"one": "{n} day", "other": "{n} days"},
}
WORKING_DAYS: Final[Phrase] = {
    "ar": {"zero": "{n} يوم عمل", "one": "يوم عمل واحد", "two": "يوما عمل",
           "few": "{n} أيام عمل", "many": "{n} يوم عمل", "other": "{n} يوم عمل"},
    "en": {"one": "{n} working day", "other": "{n} working days"},
}
LAST_DAYS: Final[Phrase] = {
    "ar": {"zero": "آخر {n} يوم", "one": "آخر يوم", "two": "آخر يومين", "few": "آخر {n} أيام",
           "many": "آخر {n} يوماً", "other": "آخر {n} يوم"},
    "en": {"one": "The last day", "other": "The last {n} days"},
}


def number(value: float, language: str) -> str:
    """A number as the language writes it, in the Western digits Jordan's services use."""
    return format_decimal(value, locale=LOCALES[language], numbering_system="latn")


def counted(phrase: Phrase, n: float, language: str) -> str:
    """`n` with its noun in the form CLDR's plural rules give for it ("11 يوماً", "2 days")."""
    forms = phrase[language]
    category = LOCALES[language].plural_form(n)
    return forms.get(category, forms["other"]).format(n=number(n, language))


def both(phrase: Phrase, n: float) -> dict[str, str]:
    return {"ar": counted(phrase, n, "ar"), "en": counted(phrase, n, "en")}


def bucket_label(phrase: Phrase, upper_edges: tuple[float, ...], bucket: int
                 ) -> tuple[str, str]:
    """Arabic and English label of a histogram's bucket (the last one is open-ended):
    ('≤ يوما عمل', '≤ 2 working days'), ('أكثر من 30 يوماً', 'more than 30 days')."""
    if bucket >= len(upper_edges):
        edge = upper_edges[-1]
        return f"أكثر من {counted(phrase, edge, 'ar')}", f"more than {counted(phrase, edge, 'en')}"
    edge = upper_edges[bucket]
    return f"≤ {counted(phrase, edge, 'ar')}", f"≤ {counted(phrase, edge, 'en')}"
