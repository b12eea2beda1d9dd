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
returns the request to the status it was in. A comment for the record may be left in any
status: it changes nothing but the timeline.

`refusal` is the one judgement of whether someone may take an action on a request now: the
actions raise what it returns, and a case's view lists the actions it returns nothing for.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Final

from services.routing.exceptions import (
    ExtensionLimitReached,
    PermissionDenied,
    TransferLimitReached,
    TransitionNotAllowed,
)
from services.routing.models import Case
from services.routing.permissions import Permission
from shared.errors import Problem, Text
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
    comment = "comment"


PERMISSION: Final[dict[Action, Permission]] = {
    Action.accept: Permission.accept,
    Action.refuse_jurisdiction: Permission.refuse_jurisdiction,
    Action.distribute: Permission.distribute,
    Action.transfer: Permission.transfer,
    Action.ask_info: Permission.ask_info,
    Action.extend: Permission.extend,
    Action.respond: Permission.respond,
    Action.reject: Permission.reject,
    Action.close: Permission.close,
    Action.merge: Permission.merge,
    Action.review_decision: Permission.review,
    Action.comment: Permission.comment,
}
"""The permission each action needs (OpenAPI shows it as `x-permission`)."""

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
    Action.comment: frozenset(RequestStatus),
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
    Action.comment: Text("التعليق على", "comment on"),
}


def not_from(action: Action, status: RequestStatus) -> Text:
    """Why `action` cannot be taken on a request in `status`, in both languages."""
    verb, state = ACTION_WORDS[action], STATUS_WORDS[status]
    return Text(f"لا يمكن {verb.ar} طلب حالته «{state.ar}».",
                f"You cannot {verb.en} a request that is {state.en}.")


_PRAISE_IS_NOT_ACCEPTED = Text("الثناء لا يُقبل بل يُشكر عليه بالرد.",
                               "Praise is not accepted: acknowledge it by responding.")


def refusal(action: Action, case: Case, may: Callable[[Permission], bool]) -> Problem | None:
    """Why the person who `may` hold these permissions cannot take `action` on `case` now, or
    None when they can (what the body says is judged by the action itself)."""
    if not may(PERMISSION[action]):
        return PermissionDenied(PERMISSION[action].value)
    starts = ALLOWED_FROM[action]
    if case.kind is RequestKind.praise and action is Action.respond:
        starts = starts | {S.assigned}  # praise is acknowledged, never accepted
    if case.status not in starts or (case.status is S.triage and action is not Action.comment
                                     and not may(Permission.triage)):
        return TransitionNotAllowed(not_from(action, case.status), status=case.status.value,
                                    action=action.value)
    if action is Action.accept and case.kind is RequestKind.praise:
        return TransitionNotAllowed(_PRAISE_IS_NOT_ACCEPTED, status=case.status.value,
                                    action=action.value)
    if (action is Action.transfer and case.transfer_count >= MAX_OFFICER_TRANSFERS
            and not may(Permission.triage)):
        return TransferLimitReached(Text(
            "حُوّل هذا الطلب ثلاث مرات؛ القرار الآن لوحدة الشكاوى (ارفض الاختصاص لتحيله إليها).",
            "This request was transferred three times; the CMU decides now (refuse "
            "jurisdiction to send it there)."), transfer_count=case.transfer_count)
    if action is Action.extend and case.extensions >= MAX_EXTENSIONS:
        return ExtensionLimitReached(Text("لا يُمدد الموعد أكثر من مرتين.",
                                          "A deadline is extended at most twice."),
                                     extensions=case.extensions)
    return None


def available(case: Case, may: Callable[[Permission], bool]) -> list[Action]:
    """The actions `refusal` allows on `case` now, in the order of `Action`."""
    return [action for action in Action if refusal(action, case, may) is None]
