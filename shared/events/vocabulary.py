"""The words events are made of: enums and constrained identifier types shared by the catalog.

Services import these too (their tables and APIs speak the same words), so a value means the same
thing on the bus, in a database row and in an API response. Adding a member is a compatible
change only once every consumer has been deployed with it; until then it is a new event version.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import StringConstraints


class RequestKind(StrEnum):
    """What the requester wants (from the regulations)."""

    complaint = "complaint"
    suggestion = "suggestion"
    inquiry = "inquiry"
    praise = "praise"
    report = "report"


class RequestStatus(StrEnum):
    """Where a request stands in its lifecycle (DESIGN.md, "Request lifecycle").

    Routing decides the status; intake shows it to the requester, analytics counts it.
    """

    received = "received"            # intake has it; routing has not placed it yet
    triage = "triage"                # no entity could be determined, or jurisdiction refused
    assigned = "assigned"            # with a main (or, after distribution, a sub-) liaison officer
    in_progress = "in_progress"      # accepted and classified; the processing clock runs
    awaiting_information = "awaiting_information"  # the requester was asked; clocks paused
    responded = "responded"          # answered; the rating window is open
    under_review = "under_review"    # rated 1: the CMU decides to reopen or confirm
    closed = "closed"
    rejected = "rejected"            # inadmissible, with the legal ground


class ReportStatus(StrEnum):
    """Where a sealed corruption report stands, as its receipt shows (DESIGN.md's lifecycle).

    Unknown receipts answer `sealed` too: a report is sealed before it is filed, so the answer
    says nothing about whether a receipt exists.
    """

    sealed = "sealed"              # intake sealed it; on its way to the commission
    forwarded = "forwarded"        # filed in the commission's inbox
    acknowledged = "acknowledged"  # the commission confirmed receipt
    cannot_be_opened = "cannot_be_opened"  # it does not open: the reporter is asked to resend


class Channel(StrEnum):
    """How a request reached the platform."""

    mobile_app = "mobile_app"
    portal = "portal"
    call_center = "call_center"
    complaint_box = "complaint_box"
    chatbot = "chatbot"
    service_center = "service_center"


class NoticeChannel(StrEnum):
    """How a person wants to hear from the platform."""

    sms = "sms"
    email = "email"


class Language(StrEnum):
    ar = "ar"
    en = "en"


class ClosingCode(StrEnum):
    """Why a request was closed; only `resolved` counts as resolved in the figures."""

    resolved = "resolved"
    partly_resolved = "partly_resolved"
    rejected = "rejected"
    duplicate = "duplicate"
    withdrawn = "withdrawn"
    no_response_from_requester = "no_response_from_requester"


class ClockKind(StrEnum):
    """The requester's clock runs from receipt to closing; an entity's from when it holds it."""

    requester = "requester"
    entity = "entity"


class SlaStage(StrEnum):
    """The step a deadline is about."""

    first_response = "first_response"
    processing = "processing"
    rating_window = "rating_window"
    review = "review"  # the CMU studies a rating of 1


class LegalGround(StrEnum):
    """Why a request is not admissible."""

    before_court = "before_court"
    before_public_prosecution = "before_public_prosecution"
    already_judged = "already_judged"
    malicious = "malicious"


class ClosedBy(StrEnum):
    """Who closed a request: a person in a role, or the platform by its own rules."""

    requester = "requester"
    officer = "officer"
    cmu = "cmu"
    system = "system"


class CodePurpose(StrEnum):
    """What a one-time code confirms."""

    registration = "registration"
    contact_change = "contact_change"
    sign_in = "sign_in"


class DirectoryChange(StrEnum):
    created = "created"
    updated = "updated"
    retired = "retired"


class Role(StrEnum):
    """What a person (or a service) is to the platform; tokens and directory events carry it.

    The scope (entities or sectors) travels beside it.
    """

    citizen = "citizen"
    call_center_agent = "call_center_agent"
    complaint_box_clerk = "complaint_box_clerk"
    main_liaison_officer = "main_liaison_officer"
    sub_liaison_officer = "sub_liaison_officer"
    entity_head = "entity_head"
    minister = "minister"
    cmu_staff = "cmu_staff"
    cmu_admin = "cmu_admin"
    integrity_commission = "integrity_commission"
    decision_maker = "decision_maker"
    operator = "operator"
    service = "service"  # service to service


STAFF_ROLES: Final = frozenset(Role) - {Role.citizen, Role.operator, Role.service}
"""The roles people sign in with at routing (the directory's staff). Their standing is checked
on every request (gateway and routing), so a deactivation or a role change takes effect at once.
The demo operator (outside production only) signs in there too, but is no staff member: no role
of it can be granted through the API, and it may do nothing but move the simulated clock."""


EscalationLevel = Literal[1, 2]
"""1: the entity head; 2: the sector's minister."""

ReferenceNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9/-]*$")
]
"""A request's reference number as the requester sees it (intake decides the format)."""

EntityCode = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
]
"""An entity's or department's directory code, e.g. `PM-GAM`."""

SectorCode = Annotated[
    str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Z][A-Z0-9]*$")
]
"""A sector's directory code, e.g. `MOH`."""

GOVERNORATES: Final = frozenset({
    "JO-AM", "JO-IR", "JO-AZ", "JO-BA", "JO-MA", "JO-KA",
    "JO-JA", "JO-MD", "JO-AJ", "JO-AQ", "JO-MN", "JO-AT",
})
"""The twelve governorates (ISO 3166-2:JO); their names are in routing's directory."""

GovernorateCode = Annotated[str, StringConstraints(pattern=r"^JO-[A-Z]{2}$")]
"""ISO 3166-2:JO code of one of the twelve governorates (`GOVERNORATES`), e.g. `JO-AM`."""

ClassificationCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
"""A complaint classification's directory code."""

PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
"""E.164, e.g. `+962791234567`."""

EmailAddress = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
"""A syntactically plausible address; deliverability is notify's business."""

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]
