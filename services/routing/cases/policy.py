"""The rules of a request's life in routing, as data (DESIGN.md "Request lifecycle"; issue 4).

    received ─▶ assigned ─▶ in_progress ─▶ responded ─▶ closed (rating 2–5, or none in time)
       │          │ ▲           │  ▲            │ rating 1
       │          │ │ transfer  │  └ reopen ─ under_review ─▶ closed (confirmed)
       │          ▼ │           ▼
       └────▶ triage (CMU)   rejected (inadmissible, with the legal ground)

Praise is placed like every request (the officers are told) and acknowledged by a response
from `assigned`: it needs no classification and no processing time.

Processing time: inquiries 2 and suggestions 7 working days, fixed by the regulations;
complaints as the officer sets it, within the classification's maximum. Officers transfer a
request at most 3 times (after that only the CMU moves it) and extend its deadline at most
twice. Waiting for the requester's information pauses the clocks (the SLA service's part) and
returns the request to the status it was in.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from shared.errors import Text
from shared.events.vocabulary import ClosingCode, RequestKind, RequestStatus

FIXED_PROCESSING_DAYS: Final = {RequestKind.inquiry: 2, RequestKind.suggestion: 7}
MAX_OFFICER_TRANSFERS: Final = 3
MAX_EXTENSIONS: Final = 2
OFFICERS_TOLD: Final = 20
"""`request.assigned` and `request.distributed` name at most this many officers (the catalog's
bound); everyone in scope still sees the request in their inbox."""


class Action(StrEnum):
    """A staff action on a request; the value is its path segment."""

    accept = "accept"
    refuse_jurisdiction = "refuse-jurisdiction"
    distribute = "distribute"
    transfer = "transfer"
    ask_info = "ask-info"
    extend = "extend"
    respond = "respond"
    reject = "reject"
    close = "close"
    merge = "merge"
    review_decision = "review-decision"


S = RequestStatus
WORKING: Final = frozenset({S.assigned, S.in_progress, S.awaiting_information})

ALLOWED_FROM: Final[dict[Action, frozenset[RequestStatus]]] = {
    Action.accept: frozenset({S.assigned}),
    Action.refuse_jurisdiction: frozenset({S.assigned}),
    Action.distribute: frozenset({S.assigned, S.in_progress}),
    Action.transfer: frozenset({S.assigned, S.in_progress, S.triage}),
    Action.ask_info: frozenset({S.assigned, S.in_progress}),
    Action.extend: frozenset({S.in_progress}),
    Action.respond: frozenset({S.in_progress}),  # and `assigned` for praise
    Action.reject: WORKING | {S.triage},
    Action.close: WORKING | {S.responded, S.triage},
    Action.merge: WORKING,
    Action.review_decision: frozenset({S.under_review}),
}
"""Where each action may start (the CMU's `triage` permission is also needed from triage)."""

CLOSE_ONLY_FROM: Final[dict[ClosingCode, frozenset[RequestStatus]]] = {
    # Resolved means the requester was told the solution: respond first.
    ClosingCode.resolved: frozenset({S.responded}),
    ClosingCode.partly_resolved: frozenset({S.responded}),
    ClosingCode.no_response_from_requester: frozenset({S.awaiting_information}),
}

STATUS_WORDS: Final[dict[RequestStatus, Text]] = {
    S.received: Text("مستلم", "received"),
    S.triage: Text("لدى وحدة الشكاوى للفرز", "with the CMU for triage"),
    S.assigned: Text("مُسند إلى ضابط الارتباط", "assigned to the liaison officer"),
    S.in_progress: Text("قيد المعالجة", "in progress"),
    S.awaiting_information: Text("بانتظار معلومات من مقدم الطلب",
                                 "awaiting information from the requester"),
    S.responded: Text("تم الرد عليه", "responded"),
    S.under_review: Text("قيد المراجعة لدى وحدة الشكاوى", "under review by the CMU"),
    S.closed: Text("مغلق", "closed"),
    S.rejected: Text("مرفوض لعدم الاختصاص القانوني", "rejected as inadmissible"),
}

ACTION_WORDS: Final[dict[Action, Text]] = {
    Action.accept: Text("قبول", "accept"),
    Action.refuse_jurisdiction: Text("رفض الاختصاص في", "refuse jurisdiction over"),
    Action.distribute: Text("توزيع", "distribute"),
    Action.transfer: Text("تحويل", "transfer"),
    Action.ask_info: Text("طلب معلومات عن", "ask for information about"),
    Action.extend: Text("تمديد مهلة", "extend the deadline of"),
    Action.respond: Text("الرد على", "respond to"),
    Action.reject: Text("رفض", "reject"),
    Action.close: Text("إغلاق", "close"),
    Action.merge: Text("دمج", "merge"),
    Action.review_decision: Text("البت في مراجعة", "decide the review of"),
}


def not_from(action: Action, status: RequestStatus) -> Text:
    """Why `action` cannot be taken on a request in `status`, in both languages."""
    verb, state = ACTION_WORDS[action], STATUS_WORDS[status]
    return Text(f"لا يمكن {verb.ar} طلب حالته «{state.ar}».",
                f"You cannot {verb.en} a request that is {state.en}.")
