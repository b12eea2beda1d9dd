"""The event catalog: every type has a model, models survive the bus, bad messages are refused
without repeating what they carried, and the committed AsyncAPI document matches the code.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.calendar import DayOverride, DayStatus, RamadanPeriod
from shared.clock import SystemClock
from shared.events import (
    REGISTRY,
    EventPayload,
    EventType,
    MalformedEvent,
    UnknownEvent,
    decode_envelope,
    new_envelope,
    parse_payload,
)
from shared.events import catalog as c
from shared.events.asyncapi import (
    DOCUMENT_PATH,
    EXCHANGE,
    REGENERATE_COMMAND,
    build_asyncapi,
    render_asyncapi,
)
from shared.events.vocabulary import (
    Channel,
    ClockKind,
    ClosedBy,
    ClosingCode,
    CodePurpose,
    DirectoryChange,
    Language,
    LegalGround,
    NoticeChannel,
    RequestKind,
    Role,
    SlaStage,
)

PROJECT_ROOT = Path(__file__).parents[2]
FAKE_PHONE = "+962790000001"
REF = "BKH-2025-000123"
AT = datetime(2025, 3, 6, 11, 0, tzinfo=UTC)
PERSON = UUID("6f1c2b7e-0c4e-4d8e-9a51-2f3b9c1d7e10")


def _samples() -> list[EventPayload]:
    """One valid payload of every registered model."""
    return [
        c.CitizenRegistered(
            citizen_id=uuid4(),
            phone="+962791234567",
            email="someone@example.jo",
            language=Language.ar,
            notice_channel=NoticeChannel.sms,
        ),
        c.CitizenContactChanged(
            citizen_id=uuid4(),
            phone="+962791234567",
            email=None,
            language=Language.en,
            notice_channel=NoticeChannel.email,
        ),
        c.CitizenCodeRequested(
            challenge_id=uuid4(),
            phone="+962791234567",
            code="482913",
            purpose=CodePurpose.registration,
            language=Language.ar,
            expires_at=AT,
        ),
        c.RequestSubmitted(
            reference=REF,
            kind=RequestKind.complaint,
            entity="PM-GAM",
            sector="PM",
            governorate="JO-AM",
            channel=Channel.mobile_app,
            subject="حفرة في الشارع",
            description="حفرة عميقة أمام المدرسة منذ شهر.",
            attachment_ids=[uuid4()],
            requester_id=uuid4(),
            submitted_at=AT,
        ),
        c.RequestTriaged(reference=REF, reason=c.TriageReason.no_entity),
        c.RequestAssigned(reference=REF, entity="PM-GAM", sector="PM", officer_ids=[PERSON]),
        c.RequestDistributed(
            reference=REF, entity="PM-GAM", sector="PM", officer_ids=[uuid4()], actor_id=PERSON
        ),
        c.RequestAccepted(
            reference=REF,
            classification="roads.potholes",
            processing_working_days=5,
            actor_id=PERSON,
        ),
        c.RequestJurisdictionRefused(
            reference=REF,
            from_entity="PM-GAM",
            suggested_entity="MOPWH",
            reason="الطرق الخارجية من اختصاص وزارة الأشغال",
            transfer_count=0,
            actor_id=PERSON,
        ),
        c.RequestTransferred(
            reference=REF,
            from_entity="PM-GAM",
            to_entity="MOPWH",
            to_sector="MOPWH",
            reason="اختصاص",
            transfer_count=1,
            actor_id=PERSON,
        ),
        c.RequestInfoRequested(reference=REF, question="ما رقم الشارع؟", actor_id=PERSON),
        c.RequestInfoProvided(reference=REF, answer="شارع 12"),
        c.RequestExtended(
            reference=REF,
            extension_number=1,
            added_working_days=3,
            reason="مناقصة",
            actor_id=PERSON,
        ),
        c.RequestResponded(
            reference=REF, actions_taken="زيارة ميدانية", solution="تم الإصلاح", actor_id=PERSON,
            round=2,
        ),
        c.RequestRated(reference=REF, score=4, comment="شكراً", round=2),
        c.RequestChased(reference=REF, entity="PM-GAM", sector="PM", stage="first_response",
                        due_at=datetime(2030, 3, 5, 10, tzinfo=UTC), note="تأخر الرد", chase=1),
        c.RequestReviewOpened(reference=REF, entity="PM-GAM", sector="PM"),
        c.RequestReopened(
            reference=REF, entity="PM-GAM", sector="PM", decision="الحل غير كاف", actor_id=PERSON
        ),
        c.RequestClosed(
            reference=REF, closing_code=ClosingCode.resolved, closed_by=ClosedBy.system
        ),
        c.RequestRejected(
            reference=REF,
            legal_ground=LegalGround.before_court,
            reason="القضية منظورة أمام المحكمة",
            actor_id=PERSON,
        ),
        c.SlaDeadlineSet(
            reference=REF,
            clock=ClockKind.entity,
            entity="PM-GAM",
            stage=SlaStage.first_response,
            due_at=AT,
        ),
        c.SlaDeadlineEnded(
            reference=REF,
            clock=ClockKind.requester,
            entity=None,
            stage=SlaStage.rating_window,
            due_at=AT,
            ended_at=AT,
        ),
        c.SlaEscalated(
            reference=REF,
            level=2,
            entity="PM-GAM",
            sector="PM",
            stage=SlaStage.first_response,
            overdue_since=AT,
            recipient_ids=[PERSON],
        ),
        c.SlaBreached(
            reference=REF,
            clock=ClockKind.requester,
            entity=None,
            stage=SlaStage.processing,
            due_at=AT,
        ),
        c.SlaRatingWindowExpired(reference=REF, due_at=AT),
        c.SlaRulesChanged(
            revision=3,
            policy_version=2,
            policy=c.SlaPolicy(suggestion_working_days=5),
            holiday_overrides=[
                DayOverride(day=date(2025, 3, 31), status=DayStatus.working_day),
                DayOverride(day=date(2025, 4, 2), status=DayStatus.holiday,
                            name_ar="عطلة عيد الفطر", name_en="Eid al-Fitr holiday"),
            ],
            ramadan_periods=[
                RamadanPeriod(first_day=date(2025, 3, 1), last_day=date(2025, 3, 29)),
            ],
        ),
        c.NotificationSent(
            notification_id=uuid4(),
            source_event_id=uuid4(),
            channel=NoticeChannel.sms,
            template="request.acknowledged",
            status="accepted",
            attempts=1,
        ),
        c.NotificationFailed(
            notification_id=uuid4(),
            source_event_id=uuid4(),
            channel=NoticeChannel.email,
            template="request.acknowledged",
            status="undeliverable",
            reason_code="mailbox_unavailable",
            attempts=3,
        ),
        c.ReportSealed(
            envelope_id=uuid4(),
            key_id="commission-2025-01",
            envelope=base64.b64encode(b"\x00sealed bytes\xff").decode(),
            created_day=date(2025, 3, 6),
            identity_envelope=base64.b64encode(b"\x00sealed identity\xff").decode(),
            receipt_digest="ab" * 32,
        ),
        c.ReportForwarded(envelope_id=uuid4()),
        c.ReportAcknowledged(envelope_id=uuid4()),
        c.ReportCannotBeOpened(envelope_id=uuid4()),
        c.AnalyticsReportPublished(
            report_id=uuid4(), cadence=c.ReportCadence.monthly, period_start=date(2025, 3, 1),
            period_end=date(2025, 3, 31), sector="MOH",
            link="/api/v1/analytics/published-reports/6f1c2b9e-0000-4000-8000-000000000001",
        ),
        c.DirectorySectorChanged(
            sector="PM", name_ar="رئاسة الوزراء", name_en="Prime Ministry",
            change=DirectoryChange.created,
        ),
        c.DirectoryEntityChanged(
            entity="PM-GAM",
            sector="PM",
            name_ar="أمانة عمان الكبرى",
            name_en="Greater Amman Municipality",
            change=DirectoryChange.created,
        ),
        c.DirectoryPersonChanged(
            person_id=PERSON,
            phone="+962795555555",
            language=Language.ar,
            notice_channel=NoticeChannel.sms,
            change=DirectoryChange.updated,
        ),
        c.DirectoryRoleChanged(
            person_id=PERSON, role=Role.entity_head, entity="PM-GAM", granted=True
        ),
    ]


SAMPLES = _samples()


def _envelope_bytes(type_: str, version: int, payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": str(uuid4()),
            "type": type_,
            "version": version,
            "occurred_at": AT.isoformat(),
            "producer": "intake",
            "correlation_id": REF,
            "payload": payload,
        }
    ).encode()


def _submitted_payload(**changes: Any) -> dict[str, Any]:
    sample = next(s for s in SAMPLES if isinstance(s, c.RequestSubmitted))
    payload = sample.model_dump(mode="json")
    payload.update(changes)
    return payload


# --- the document ------------------------------------------------------------------------------


def test_the_committed_asyncapi_document_matches_the_catalog() -> None:
    committed = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
    assert committed == render_asyncapi(), (
        f"{DOCUMENT_PATH.relative_to(PROJECT_ROOT)} is out of date with the event catalog; "
        f"regenerate it with `{REGENERATE_COMMAND}` and commit the result"
    )


def test_the_document_has_a_channel_message_and_send_operation_per_type() -> None:
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    for event_type in EventType:
        channel = document["channels"][event_type.value]
        assert channel["address"] == event_type.value
        assert channel["bindings"]["amqp"]["exchange"] == {
            "name": EXCHANGE,
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
        operation = document["operations"][f"publish.{event_type.value}"]
        assert operation["action"] == "send"
        assert operation["x-producer"] == c.PRODUCERS[event_type]
    for (type_, version), model in REGISTRY.items():
        message = document["components"]["messages"][f"{type_}.v{version}"]
        assert message["payload"]["properties"]["type"]["const"] == type_
        assert message["payload"]["properties"]["payload"] == {
            "$ref": f"#/components/schemas/{model.__name__}"
        }


def test_every_reference_in_the_document_resolves() -> None:
    document = build_asyncapi()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    for ref in refs(document):
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_the_sensitive_code_is_marked_in_the_schema_and_hidden_from_repr() -> None:
    schema = build_asyncapi()["components"]["schemas"]["CitizenCodeRequested"]
    assert schema["properties"]["code"]["x-sensitive"] is True
    sample = next(s for s in SAMPLES if isinstance(s, c.CitizenCodeRequested))
    assert sample.code not in repr(sample)
    assert sample.phone not in repr(sample)


# --- the catalog -------------------------------------------------------------------------------


def test_every_event_type_has_a_model_and_every_model_a_known_type() -> None:
    registered_types = {type_ for type_, _ in REGISTRY}
    assert registered_types == {t.value for t in EventType}
    for (type_, version), model in REGISTRY.items():
        assert EventType(type_).value == type_
        assert version >= 1
        assert (model.event_type, model.event_version) == (type_, version)
        assert (model.__doc__ or "").strip(), f"{model.__name__} needs a docstring"


def test_every_event_type_has_a_producer() -> None:
    assert set(c.PRODUCERS) == set(EventType)
    assert set(c.PRODUCERS.values()) <= {"intake", "routing", "sla", "notify", "integrity",
                                         "analytics"}


def test_importing_the_package_registers_the_whole_catalog() -> None:
    code = (
        "import shared.events as e; "
        "print(len(e.REGISTRY), len({t for t, _ in e.REGISTRY}), len(e.EventType))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(len(REGISTRY)), str(len(EventType)), str(len(EventType))]


def test_contact_points_travel_only_in_citizen_and_directory_person_events() -> None:
    allowed = {"citizen.registered", "citizen.contact_changed", "citizen.code_requested"}
    allowed.add("directory.person_changed")
    for (type_, _), model in REGISTRY.items():
        if type_ not in allowed:
            assert not {"phone", "email", "code"} & set(model.model_fields), type_


def test_the_samples_cover_every_registered_model() -> None:
    assert {type(s) for s in SAMPLES} == set(REGISTRY.values())


def test_a_second_class_for_a_declared_type_and_version_is_refused() -> None:
    before = dict(REGISTRY)
    with pytest.raises(TypeError, match="declared twice"):

        class RequestRatedAgain(EventPayload, type=EventType.request_rated, version=1):
            score: int

    assert before == REGISTRY


# --- round trip --------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", SAMPLES, ids=lambda s: s.event_type)
def test_a_payload_survives_the_bus(payload: EventPayload) -> None:
    envelope = new_envelope(
        payload,
        producer=c.PRODUCERS[EventType(payload.event_type)],
        clock=SystemClock(),
        correlation_id=REF,
    )
    decoded = decode_envelope(envelope.model_dump_json().encode())
    assert decoded == envelope
    parsed = parse_payload(decoded)
    assert type(parsed) is type(payload)
    assert parsed == payload


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"phone={FAKE_PHONE}".encode(), id="not-json"),
        pytest.param(json.dumps({"phone": FAKE_PHONE}).encode(), id="not-an-envelope"),
        pytest.param(json.dumps([FAKE_PHONE]).encode(), id="a-list"),
        pytest.param(
            json.dumps(
                {
                    **json.loads(_envelope_bytes("request.rated", 1, {})),
                    "occurred_at": f"call {FAKE_PHONE}",
                }
            ).encode(),
            id="wrong-typed-envelope-field",
        ),
        pytest.param(
            json.dumps(
                {**json.loads(_envelope_bytes("request.rated", 1, {})), "payload": FAKE_PHONE}
            ).encode(),
            id="payload-not-an-object",
        ),
    ],
)
def test_a_body_that_is_not_an_envelope_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent) as caught:
        decode_envelope(body)
    assert FAKE_PHONE not in str(caught.value)
    assert FAKE_PHONE[1:] not in str(caught.value)


@pytest.mark.parametrize(
    ("type_", "version"),
    [("request.teleported", 1), ("request.submitted", 99)],
    ids=["unknown-type", "unknown-version"],
)
def test_an_unknown_type_or_version_is_unknown(type_: str, version: int) -> None:
    envelope = decode_envelope(_envelope_bytes(type_, version, _submitted_payload()))
    with pytest.raises(UnknownEvent) as caught:
        parse_payload(envelope)
    assert type_ in str(caught.value)
    assert FAKE_PHONE not in str(caught.value)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param(
            {k: v for k, v in _submitted_payload().items() if k != "requester_id"},
            "requester_id",
            id="missing",
        ),
        pytest.param(_submitted_payload(phone=FAKE_PHONE), "<unexpected field>", id="extra"),
        pytest.param(_submitted_payload(requester_id=FAKE_PHONE), "requester_id", id="wrong-type"),
        pytest.param(_submitted_payload(attachment_ids=[FAKE_PHONE]), "attachment_ids", id="item"),
        pytest.param(_submitted_payload(kind="report"), "kind", id="report-in-the-clear"),
    ],
)
def test_a_payload_that_does_not_match_its_model_is_malformed(
    payload: dict[str, Any], field: str
) -> None:
    envelope = decode_envelope(_envelope_bytes("request.submitted", 1, payload))
    with pytest.raises(MalformedEvent) as caught:
        parse_payload(envelope)
    reason = str(caught.value)
    assert field in reason
    assert FAKE_PHONE not in reason
    assert FAKE_PHONE[1:] not in reason


def test_a_wrong_phone_is_refused_without_being_repeated() -> None:
    sample = next(s for s in SAMPLES if isinstance(s, c.CitizenRegistered))
    payload = {**sample.model_dump(mode="json"), "phone": FAKE_PHONE + "x"}
    envelope = decode_envelope(_envelope_bytes("citizen.registered", 1, payload))
    with pytest.raises(MalformedEvent) as caught:
        parse_payload(envelope)
    assert "phone" in str(caught.value)
    assert FAKE_PHONE[1:] not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "changes"),
    [
        (c.RequestRated, {"score": 0}),
        (c.RequestRated, {"score": 6}),
        (c.RequestExtended, {"extension_number": 3}),
        (c.SlaEscalated, {"level": 3}),
        (c.SlaDeadlineSet, {"due_at": "2025-03-06T11:00:00"}),
        (c.CitizenCodeRequested, {"code": "12ab"}),
        (c.ReportSealed, {"envelope": "not base64!"}),
        (c.ReportSealed, {"created_day": "2025-03-06T11:00:00Z"}),
        (c.RequestSubmitted, {"governorate": "JO-XXX"}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else next(iter(v)),
)
def test_constraints_are_enforced(model: type[EventPayload], changes: dict[str, Any]) -> None:
    sample = next(s for s in SAMPLES if isinstance(s, model))
    payload = {**sample.model_dump(mode="json"), **changes}
    envelope = decode_envelope(_envelope_bytes(model.event_type, model.event_version, payload))
    with pytest.raises(MalformedEvent, match=next(iter(changes))):
        parse_payload(envelope)
