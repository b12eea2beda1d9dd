"""Sealed reports: only the commission's private key opens them, and any tampering is refused."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.sealing import (
    BUCKETS,
    DIGEST_BYTES,
    MAGIC,
    MAX_PLAINTEXT_BYTES,
    Attachment,
    CommissionKeyPair,
    CommissionPublicKey,
    EnvelopeHeader,
    EnvelopeKind,
    EnvelopeRefused,
    ReportContent,
    ReporterIdentity,
    check_sealed_report,
    day_stamp,
    display_fingerprint,
    inspect,
    new_receipt,
    normalise_fingerprint,
    normalise_receipt,
    open_envelope,
    open_identity,
    open_report,
    receipt_digest,
    seal,
    seal_report,
)

DAY = date(2026, 3, 5)
CANARY = "CANARY-7f3c9a1e-قناري"
COMMISSION = CommissionKeyPair.generate("commission-2026-01")
KEYS = {COMMISSION.key_id: COMMISSION.private_key}
CONTENT = ReportContent(
    text=f"رشوة في دائرة الترخيص {CANARY}",
    subject="رشوة",
    attachments=(
        Attachment("receipt.pdf", "application/pdf", b"%PDF-1.7 evidence"),
        Attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 photo bytes"),
    ),
)
IDENTITY = ReporterIdentity(
    name="Reporter Name", national_number="9991234567", phone="+962790000001"
)


def sealed(identity: ReporterIdentity | None = IDENTITY, **kwargs: object) -> tuple[bytes, bytes]:
    report = seal_report(CONTENT, identity, to=COMMISSION.public, day=DAY, **kwargs)  # type: ignore[arg-type]
    assert report.identity_envelope is not None or identity is None
    return report.envelope, report.identity_envelope or b""


ENVELOPE, IDENTITY_ENVELOPE = sealed()


def refused(reason: str | None = None) -> pytest.RaisesExc[EnvelopeRefused]:
    return pytest.raises(EnvelopeRefused, match=reason)


def test_the_commission_key_opens_content_and_identity_as_sealed() -> None:
    opened, content = open_report(ENVELOPE, KEYS)
    assert content == CONTENT
    assert opened.header.kind is EnvelopeKind.report
    assert opened.header.day == DAY
    assert opened.header.key_id == COMMISSION.key_id
    identity_opened, identity = open_identity(IDENTITY_ENVELOPE, KEYS)
    assert identity == IDENTITY
    assert identity_opened.header.envelope_id == opened.header.envelope_id


def test_the_sealed_bytes_contain_no_plaintext() -> None:
    for needle in (CANARY.encode(), b"9991234567", b"evidence", "رشوة".encode()):
        assert needle not in ENVELOPE
        assert needle not in IDENTITY_ENVELOPE


def test_any_other_key_fails_to_open() -> None:
    impostor = CommissionKeyPair.generate(COMMISSION.key_id)  # same name, other key
    with refused("cannot-open"):
        open_envelope(ENVELOPE, {COMMISSION.key_id: impostor.private_key})
    with refused("cannot-open"):
        open_envelope(IDENTITY_ENVELOPE, {COMMISSION.key_id: impostor.private_key})


def test_an_unknown_key_id_is_refused_by_the_server_check_and_by_opening() -> None:
    with refused("unknown-key"):
        check_sealed_report(ENVELOPE, None, known_key_ids=frozenset({"another-key"}))
    with refused("unknown-key"):
        open_envelope(ENVELOPE, {"another-key": COMMISSION.private_key})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=len(ENVELOPE) - 1),
       flip=st.integers(min_value=1, max_value=255))
def test_a_flipped_byte_anywhere_is_refused(position: int, flip: int) -> None:
    tampered = bytearray(ENVELOPE)
    tampered[position] ^= flip
    with refused():
        open_envelope(bytes(tampered), KEYS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=len(ENVELOPE) - 1),
       flip=st.integers(min_value=1, max_value=255))
def test_a_flipped_byte_anywhere_is_refused_at_the_door_without_the_key(
    position: int, flip: int
) -> None:
    tampered = bytearray(ENVELOPE)
    tampered[position] ^= flip
    with refused():
        check_sealed_report(bytes(tampered), None, known_key_ids=frozenset(KEYS))


def test_damage_to_the_ciphertext_or_the_sealed_key_is_caught_by_the_digest() -> None:
    header_end = 6 + struct.unpack_from(">H", ENVELOPE, 4)[0]
    for position in (header_end + 40, header_end + 80, header_end + 200, len(ENVELOPE) - 40,
                     len(ENVELOPE) - 1):
        tampered = bytearray(ENVELOPE)
        tampered[position] ^= 0x01
        with refused("damaged"):
            inspect(bytes(tampered))


def v1_envelope(plaintext: bytes = b"sealed before version 2") -> bytes:
    return seal(plaintext, to=COMMISSION.public, kind=EnvelopeKind.report, envelope_id=uuid4(),
                day=DAY, version=1)


def test_envelopes_sealed_as_version_1_stay_valid() -> None:
    old = v1_envelope()
    info = inspect(old)
    assert info.header.version == 1
    assert info.size == len(old) == len(ENVELOPE) - DIGEST_BYTES
    assert check_sealed_report(old, None, known_key_ids=frozenset(KEYS))[0] == info
    assert open_envelope(old, KEYS).plaintext == b"sealed before version 2"


def test_in_a_version_1_envelope_only_the_key_tells_damage() -> None:
    old = v1_envelope()
    header_end = 6 + struct.unpack_from(">H", old, 4)[0]
    for position in (header_end, header_end + 40, header_end + 80, len(old) - 1):
        tampered = bytearray(old)
        tampered[position] ^= 0x01
        inspect(bytes(tampered))  # well formed: nothing a server can see
        with refused():
            open_envelope(bytes(tampered), KEYS)


def test_a_version_2_envelope_passed_off_as_version_1_does_not_open() -> None:
    downgraded = ENVELOPE[:-DIGEST_BYTES].replace(b'"v":2', b'"v":1')
    assert inspect(downgraded).header.version == 1  # looks like an old envelope, but
    with refused("cannot-open"):  # its header is associated data
        open_envelope(downgraded, KEYS)


def test_a_sealed_box_whose_ephemeral_key_opens_for_nobody_is_refused_at_the_door() -> None:
    header_end = 6 + struct.unpack_from(">H", ENVELOPE, 4)[0]
    small_order = b"\x01" + bytes(31)
    body = ENVELOPE[:header_end] + small_order + ENVELOPE[header_end + 32 : -DIGEST_BYTES]
    with refused("sealed-key"):
        inspect(body + hashlib.sha256(body).digest())


@pytest.mark.parametrize("keep", [0, 3, 5, 40, 200, 300, len(ENVELOPE) - 16, len(ENVELOPE) - 1])
def test_a_truncated_envelope_is_refused_before_any_key_is_tried(keep: int) -> None:
    with refused():
        inspect(ENVELOPE[:keep])
    with refused():
        open_envelope(ENVELOPE[:keep], KEYS)


def test_extra_bytes_after_the_ciphertext_are_refused() -> None:
    with refused():
        inspect(ENVELOPE + b"\x00")


def _swap_header(envelope: bytes, header: EnvelopeHeader) -> bytes:
    old_length = struct.unpack_from(">H", envelope, 4)[0]
    new = header.to_bytes()
    return MAGIC + struct.pack(">H", len(new)) + new + envelope[6 + old_length :]


def test_a_swapped_header_is_refused_at_the_door_and_in_version_1_does_not_open() -> None:
    for envelope in (ENVELOPE, v1_envelope()):
        original = inspect(envelope).header
        for changed in (
            replace(original, envelope_id=uuid4()),
            replace(original, day=DAY - timedelta(1)),
            replace(original, kind=EnvelopeKind.identity),
        ):
            swapped = _swap_header(envelope, changed)
            if original.version == 1:
                assert inspect(swapped).header == changed  # well formed: only the key can tell
            else:
                with refused("damaged"):  # the digest binds the header to the body
                    inspect(swapped)
            with refused("damaged" if original.version == 2 else "cannot-open"):
                open_envelope(swapped, KEYS)


def test_the_header_of_another_envelope_does_not_open() -> None:
    old = v1_envelope()
    with refused("cannot-open"):
        open_envelope(_swap_header(old, inspect(v1_envelope()).header), KEYS)


@pytest.mark.parametrize(
    "header",
    [
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"report","v":1,"x":1}',
        b'{"day": "2026-03-05","id":"%s","key":"k","kind":"report","v":1}',
        b'{"id":"%s","day":"2026-03-05","key":"k","kind":"report","v":1}',
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"report","v":1,"v":1}',
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"report","v":3}',
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"report","v":0}',
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"report","v":true}',
        b'{"day":"2026-03-05","id":"%s","key":"k","kind":"secret","v":1}',
        b'{"day":"2026-3-5","id":"%s","key":"k","kind":"report","v":1}',
        b'{"day":"2026-03-05","id":"%s","key":"k y","kind":"report","v":1}',
        b'[1,2,3]',
        b'\xff\xfe',
    ],
)
def test_a_header_in_any_but_the_canonical_form_is_refused(header: bytes) -> None:
    if b"%s" in header:
        header = header.replace(b"%s", str(uuid4()).encode())
    envelope = MAGIC + struct.pack(">H", len(header)) + header + bytes(80 + 24 + 1024 + 16)
    with refused("header"):
        inspect(envelope)


def test_a_sealed_key_of_zeros_is_refused_without_trying_it() -> None:
    header = inspect(ENVELOPE).header.to_bytes()
    envelope = MAGIC + struct.pack(">H", len(header)) + header + bytes(80 + 24 + 1024 + 16)
    with refused("sealed-key"):
        inspect(envelope)


def test_something_that_is_not_an_envelope_is_refused() -> None:
    with refused("not-an-envelope"):
        inspect(b"%PDF-1.7" + bytes(2000))


def test_the_identity_envelope_must_belong_to_the_same_report() -> None:
    _, other_identity = sealed()
    with refused("identity-mismatch"):
        check_sealed_report(ENVELOPE, other_identity, known_key_ids=frozenset(KEYS))
    with refused("wrong-kind"):
        check_sealed_report(IDENTITY_ENVELOPE, None, known_key_ids=frozenset(KEYS))
    with refused("wrong-kind"):
        check_sealed_report(ENVELOPE, ENVELOPE, known_key_ids=frozenset(KEYS))
    info, identity = check_sealed_report(
        ENVELOPE, IDENTITY_ENVELOPE, known_key_ids=frozenset(KEYS)
    )
    assert identity is not None
    assert identity.header.envelope_id == info.header.envelope_id


def test_lengths_fall_into_buckets_so_short_and_longer_reports_look_alike() -> None:
    short = seal(b"x", to=COMMISSION.public, kind=EnvelopeKind.report, envelope_id=uuid4(),
                 day=DAY)
    longer = seal(b"x" * 1000, to=COMMISSION.public, kind=EnvelopeKind.report,
                  envelope_id=uuid4(), day=DAY)
    assert len(short) == len(longer)
    assert inspect(short).size_bucket == inspect(longer).size_bucket == BUCKETS[0]
    exactly_full = seal(b"x" * BUCKETS[0], to=COMMISSION.public, kind=EnvelopeKind.report,
                        envelope_id=uuid4(), day=DAY)
    assert inspect(exactly_full).size_bucket == BUCKETS[1]


def test_content_beyond_the_largest_bucket_cannot_be_sealed() -> None:
    with pytest.raises(ValueError, match="cannot be sealed"):
        seal(bytes(MAX_PLAINTEXT_BYTES + 1), to=COMMISSION.public, kind=EnvelopeKind.report,
             envelope_id=uuid4(), day=DAY)


def test_a_report_without_identity_has_no_identity_envelope() -> None:
    report = seal_report(CONTENT, ReporterIdentity(), to=COMMISSION.public, day=DAY)
    assert report.identity_envelope is None
    assert seal_report(CONTENT, None, to=COMMISSION.public, day=DAY).identity_envelope is None


def test_malformed_content_inside_a_good_envelope_is_refused_on_opening() -> None:
    for plaintext in (b"", b"\x00\x00\x00\x05{}", struct.pack(">I", 2) + b"{}",
                      ReportContent(text="t").to_plaintext() + b"trailing"):
        envelope = seal(plaintext, to=COMMISSION.public, kind=EnvelopeKind.report,
                        envelope_id=uuid4(), day=DAY)
        with refused("content"):
            open_report(envelope, KEYS)


def test_small_order_and_malformed_public_keys_are_refused() -> None:
    for key in (bytes(32), b"\x01" + bytes(31), b"short"):
        with pytest.raises(ValueError, match="public key"):
            CommissionPublicKey("k", key)
    with pytest.raises(ValueError, match="key id"):
        CommissionPublicKey("bad id", COMMISSION.public.key)
    with pytest.raises(ValueError, match="base64"):
        CommissionPublicKey.from_base64("k", COMMISSION.public.encoded.rstrip("="))


def test_the_fingerprint_is_the_sha256_people_can_compare() -> None:
    fp = COMMISSION.public.fingerprint
    assert len(fp) == 64
    assert normalise_fingerprint(display_fingerprint(fp).upper()) == fp
    assert CommissionPublicKey.from_base64("k", COMMISSION.public.encoded).fingerprint == fp


def test_receipts_are_random_readable_and_kept_only_as_a_digest() -> None:
    receipts = {new_receipt() for _ in range(200)}
    assert len(receipts) == 200
    receipt = receipts.pop()
    assert len(receipt) == 23
    assert receipt.count("-") == 3
    typed = receipt.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise_receipt(typed) == receipt.replace("-", "")
    assert receipt_digest(typed) == receipt_digest(receipt)
    assert receipt.replace("-", "") not in receipt_digest(receipt)
    assert normalise_receipt("not a receipt") is None
    with pytest.raises(ValueError, match="not a receipt"):
        receipt_digest("UUUUU-UUUUU-UUUUU-UUUUU")  # U is not in the alphabet


def test_events_about_reports_carry_the_start_of_the_amman_day_only() -> None:
    stamped = day_stamp(FixedClock(datetime(2026, 3, 5, 22, 30, tzinfo=UTC)))  # 01:30 in Amman
    assert stamped == datetime(2026, 3, 5, 21, 0, tzinfo=UTC)  # Amman's midnight (UTC+3)
    assert stamped.tzinfo is not None


def test_the_header_is_plain_canonical_json() -> None:
    header = inspect(ENVELOPE).header
    assert json.loads(header.to_bytes()) == {
        "day": "2026-03-05", "id": str(header.envelope_id), "key": COMMISSION.key_id,
        "kind": "report", "v": 2,
    }
