"""The requester's words: statuses, kinds, timeline steps and next steps in Arabic and English.

One place for every sentence a citizen reads about their request, so the app, the call center
and notify's templates never disagree on what a status means.
"""

from __future__ import annotations

from typing import Final

from shared.errors import Text
from shared.events.vocabulary import RequestKind, RequestStatus

STATUS: Final[dict[RequestStatus, Text]] = {
    RequestStatus.received: Text("تم استلام الطلب", "Received"),
    RequestStatus.triage: Text(
        "لدى وحدة إدارة الشكاوى لتحديد الجهة المختصة",
        "With the complaints unit, to find the right entity",
    ),
    RequestStatus.assigned: Text("لدى الجهة المختصة", "With the responsible entity"),
    RequestStatus.in_progress: Text("قيد المعالجة", "Being handled"),
    RequestStatus.awaiting_information: Text(
        "بانتظار معلومات منك", "Waiting for information from you"
    ),
    RequestStatus.responded: Text("تم الرد على الطلب", "Answered"),
    RequestStatus.under_review: Text(
        "قيد المراجعة لدى وحدة إدارة الشكاوى", "Under review by the complaints unit"
    ),
    RequestStatus.closed: Text("مغلق", "Closed"),
    RequestStatus.rejected: Text("غير مقبول", "Not admissible"),
}

NEXT_STEP: Final[dict[RequestStatus, Text]] = {
    RequestStatus.received: Text(
        "سيصل طلبك إلى الجهة المختصة خلال دقائق، وسنبلغك بكل خطوة.",
        "Your request will reach the responsible entity within minutes; we will tell you of "
        "every step.",
    ),
    RequestStatus.triage: Text(
        "تحدد وحدة إدارة الشكاوى الجهة المختصة بطلبك، ولا يلزمك أي إجراء.",
        "The complaints unit is finding the entity responsible for your request; nothing is "
        "needed from you.",
    ),
    RequestStatus.assigned: Text(
        "ضابط الارتباط في الجهة يدرس طلبك، ولا يلزمك أي إجراء.",
        "The entity's liaison officer is looking at your request; nothing is needed from you.",
    ),
    RequestStatus.in_progress: Text(
        "تعمل الجهة على طلبك ضمن المدة المعلنة، ولا يلزمك أي إجراء.",
        "The entity is working on your request within the published time; nothing is needed "
        "from you.",
    ),
    RequestStatus.awaiting_information: Text(
        "أجب عن السؤال المبيّن في سجل الطلب ليستأنف العمل عليه؛ المدة متوقفة حتى تجيب.",
        "Answer the question shown in the request's timeline so that work can go on; the clock "
        "is stopped until you answer.",
    ),
    RequestStatus.responded: Text(
        "قيّم الرد من 1 إلى 5 خلال يوم عمل؛ بعده يُغلق الطلب تلقائياً.",
        "Rate the answer from 1 to 5 within one working day; after that the request closes "
        "by itself.",
    ),
    RequestStatus.under_review: Text(
        "تراجع وحدة إدارة الشكاوى الرد بعد تقييمك، وستبلغك بقرارها.",
        "The complaints unit is reviewing the answer after your rating and will tell you its "
        "decision.",
    ),
    RequestStatus.closed: Text(
        "أُغلق الطلب. يمكنك تقديم طلب جديد في أي وقت.",
        "The request is closed. You can submit a new request at any time.",
    ),
    RequestStatus.rejected: Text(
        "لم يُقبل الطلب للسبب المبيّن في سجله.",
        "The request was not admitted, for the reason shown in its timeline.",
    ),
}

KIND: Final[dict[RequestKind, Text]] = {
    RequestKind.complaint: Text("شكوى", "Complaint"),
    RequestKind.suggestion: Text("اقتراح", "Suggestion"),
    RequestKind.inquiry: Text("استفسار", "Inquiry"),
    RequestKind.praise: Text("ثناء", "Praise"),
    RequestKind.report: Text("إبلاغ", "Report"),
}

STEP: Final[dict[str, Text]] = {
    "request.submitted": Text("تم استلام الطلب", "Request received"),
    "request.triaged": Text(
        "أُحيل إلى وحدة إدارة الشكاوى لتحديد الجهة", "Sent to the complaints unit for routing"
    ),
    "request.assigned": Text("وصل إلى ضابط ارتباط الجهة", "Reached the entity's liaison officer"),
    "request.distributed": Text("وُزّع على القسم المختص", "Passed to the responsible department"),
    "request.accepted": Text("قُبل وبدأت معالجته", "Accepted and being handled"),
    "request.jurisdiction_refused": Text(
        "أفادت الجهة بأنه ليس من اختصاصها", "The entity said it is not theirs to handle"
    ),
    "request.transferred": Text("حُوّل إلى جهة أخرى مختصة", "Transferred to another entity"),
    "request.info_requested": Text("طُلبت منك معلومات", "Information was asked of you"),
    "request.info_provided": Text("قدّمت المعلومات المطلوبة", "You provided the information"),
    "request.extended": Text("مُددت مدة المعالجة", "The handling time was extended"),
    "request.responded": Text("تم الرد على الطلب", "The request was answered"),
    "request.rated": Text("قيّمت الرد", "You rated the answer"),
    "request.chased": Text("ذكّرت بالطلب بعد تأخر الرد", "You chased the late answer"),
    "request.review_opened": Text(
        "أُحيل إلى وحدة إدارة الشكاوى للمراجعة", "Sent to the complaints unit for review"
    ),
    "request.reopened": Text("أُعيد فتح الطلب", "The request was reopened"),
    "request.closed": Text("أُغلق الطلب", "The request was closed"),
    "request.rejected": Text("لم يُقبل الطلب", "The request was not admitted"),
    "sla.escalated": Text(
        "صُعّد لتأخر الرد", "Escalated because the answer was late"
    ),
}

ACKNOWLEDGEMENT: Final = Text(
    "استلمنا طلبك، وسيصلك إشعار برقمه وبكل خطوة على القناة التي اخترتها.",
    "We have your request; a notice with its number and every step will reach you on the "
    "channel you chose.",
)
SIGN_IN_NEXT: Final = Text(
    "اكتمل التسجيل؛ سجّل الدخول برقم هويتك وكلمة المرور.",
    "Registration is complete; sign in with your identity number and password.",
)
