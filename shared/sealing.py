"""Sealed corruption reports: the envelope format, sealing, structural checks and opening.

A report is sealed to the integrity commission's X25519 public key the moment it arrives (or by
the reporter's own device), and from then on only the commission's private key, kept offline,
can read it. The server side seals and checks structure; it can never open.

Envelope, version 2 (integers big-endian)::

    "BKHE" | u16 header length | header | sealed data key (80) | nonce (24) | ciphertext
           | digest (32)

- header: canonical JSON (sorted keys, no spaces, ASCII) of exactly
  `{"day": "YYYY-MM-DD", "id": "<uuid>", "key": "<key id>", "kind": "report"|"identity",
  "v": 2}`; anything else (another spelling of the same values included) is refused;
- sealed data key: a fresh random 32-byte key in a libsodium sealed box
  (`crypto_box_seal`) to the commission's key named in the header;
- ciphertext: XChaCha20-Poly1305 (IETF) under the data key and a random nonce, with everything
  before the sealed data key (magic, length, header) as associated data, so a swapped or
  edited header fails to open;
- plaintext: the content padded (ISO/IEC 7816-4, `sodium_pad`) to a power-of-two size bucket
  from 1 KiB to 8 MiB, so the length tells little;
- digest: the SHA-256 of everything before it.

Who can check what. The sealed box's and the ciphertext's tags are MACs under keys that only
the commission's private key recovers: only its offline tool can tell that an envelope opens.
A server checks everything else without the key: the structure, the lengths (one of the
buckets), the header (canonical, a known key id), the ephemeral key of the sealed box (a usable
point), and the digest, which binds the header to the body for anyone. The digest is public, so
it proves nothing against someone who rewrites an envelope on purpose (they recompute it; they
can as well seal a new report), but a byte damaged after sealing, on the device, on the way or
in storage, is refused at the door instead of being filed as a report nobody can read. What
still does not open (a badly sealed envelope) the commission marks "cannot be opened", and the
reporter's receipt asks for a new report.

Version 1 is version 2 without the digest (`"v": 1`). Envelopes sealed as version 1 stay valid;
for them only the commission's tool can tell damage. A version 2 envelope cannot pass as version
1: its header, `"v"` included, is associated data, so rewriting it leaves an envelope that does
not open.

A report is two envelopes with the same id: the content (`kind` report) and, only when the
reporter gives it, their identity (`kind` identity). The commission reads a report without
seeing who sent it unless it decides to open the identity envelope (the custodian model).

Report content (the plaintext of a `report` envelope)::

    u32 manifest length | manifest (JSON) | attachment bytes, one after another

with the manifest `{"format": 1, "subject": str, "text": str, "attachments": [{"name": str,
"media_type": str, "size": int}, …], "receipt_digest": hex}` (subject and receipt_digest
optional). An identity envelope holds the JSON of
`ReporterIdentity`.

What it must never do: log or keep content, keys or plaintext; accept an envelope whose
structure it has not checked completely; let a server-side caller open anything (opening takes
private keys, which exist only in the commission's offline tool and in tests).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Final, Self
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from nacl.exceptions import RuntimeError as SodiumRuntimeError
from nacl.public import PrivateKey
from nacl.utils import random as random_bytes
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.clock import Clock

VERSION: Final = 2
"""The version new envelopes are sealed in."""
VERSIONS: Final = (1, 2)
"""The versions accepted: a client-sealed envelope's format is a public contract."""
MAGIC: Final = b"BKHE"
ALGORITHM: Final = "x25519-sealedbox+xchacha20poly1305-ietf"
KEY_BYTES: Final = 32
SEALED_KEY_BYTES: Final = sodium.crypto_box_SEALBYTES + KEY_BYTES  # 80
NONCE_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES: Final = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
DIGEST_BYTES: Final = hashlib.sha256().digest_size  # 32, from version 2
MAX_HEADER_BYTES: Final = 512
BUCKETS: Final = tuple(1 << n for n in range(10, 24))
"""Padded plaintext sizes: 1 KiB, 2 KiB, … 8 MiB."""
MAX_PLAINTEXT_BYTES: Final = BUCKETS[-1] - 1  # padding takes at least one byte
MAX_ENVELOPE_BYTES: Final = (
    len(MAGIC) + 2 + MAX_HEADER_BYTES + SEALED_KEY_BYTES + NONCE_BYTES + BUCKETS[-1] + TAG_BYTES
    + DIGEST_BYTES
)
KEY_ID_PATTERN: Final = r"^[A-Za-z0-9._:-]{1,128}$"
AMMAN: Final = ZoneInfo("Asia/Amman")

_KEY_ID: Final = re.compile(KEY_ID_PATTERN)
_PREFIX: Final = struct.Struct(">4sH")
_MANIFEST_LENGTH: Final = struct.Struct(">I")
_MAX_MANIFEST_BYTES: Final = 256 * 1024
_RECEIPT_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
_RECEIPT_GROUPS: Final = 4
_RECEIPT_GROUP_LENGTH: Final = 5
_LOOKALIKES: Final = str.maketrans("OIL", "011")


class EnvelopeRefused(Exception):
    """The envelope is malformed, sealed to a key we do not know, or does not open.

    `reason` is a short machine-readable code; nothing of the envelope's bytes is repeated.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EnvelopeKind(StrEnum):
    report = "report"
    identity = "identity"


# --- keys ---------------------------------------------------------------------------------------


def fingerprint(public_key: bytes) -> str:
    """The SHA-256 of the raw public key in lowercase hex: what people compare by eye."""
    return hashlib.sha256(public_key).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people type it (spaces, colons, capitals) in its canonical form."""
    return re.sub(r"[\s:]", "", text).lower()


def display_fingerprint(value: str) -> str:
    """Groups of four, easier to read aloud and compare: `3f2a 9c01 …`."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


@dataclass(frozen=True, slots=True)
class CommissionPublicKey:
    """One of the commission's X25519 public keys, named by the commission's key id."""

    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("a key id is 1 to 128 characters of [A-Za-z0-9._:-]")
        if len(self.key) != KEY_BYTES:
            raise ValueError("an X25519 public key is 32 bytes")
        if not _usable_point(self.key):
            # such a "key" would seal to nobody, or to everybody
            raise ValueError("not a usable X25519 public key (small order)")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    @property
    def encoded(self) -> str:
        return base64.b64encode(self.key).decode("ascii")

    @classmethod
    def from_base64(cls, key_id: str, encoded: str) -> Self:
        return cls(key_id, strict_b64decode(encoded))


@dataclass(frozen=True, slots=True)
class CommissionKeyPair:
    """A key pair, as the commission's offline tool makes it. Never on a server."""

    key_id: str
    private_key: PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, key_id: str) -> Self:
        return cls(key_id, PrivateKey.generate())

    @property
    def public(self) -> CommissionPublicKey:
        return CommissionPublicKey(self.key_id, bytes(self.private_key.public_key))


def _usable_point(key: bytes) -> bool:
    """Whether an X25519 public key is usable: libsodium refuses points of small order (their
    shared secret is all zeros, whatever the other key)."""
    try:
        sodium.crypto_scalarmult(b"\x09" + bytes(30) + b"\x40", key)
    except SodiumRuntimeError:
        return False
    return True


def strict_b64decode(text: str) -> bytes:
    """Standard base64, padded and canonical: one spelling per byte string."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return data


# --- the header ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    envelope_id: UUID
    key_id: str
    kind: EnvelopeKind
    day: date
    version: int = VERSION

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "day": self.day.isoformat(),
                "id": str(self.envelope_id),
                "key": self.key_id,
                "kind": self.kind.value,
                "v": self.version,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        ).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> EnvelopeHeader:
        try:
            fields = json.loads(data.decode("ascii"), object_pairs_hook=_refuse_duplicate_keys)
            if not isinstance(fields, dict) or set(fields) != {"day", "id", "key", "kind", "v"}:
                raise ValueError("wrong fields")
            version, key_id = fields["v"], fields["key"]
            if type(version) is not int or version not in VERSIONS:
                raise ValueError("unknown version")
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise ValueError("bad key id")
            header = cls(
                envelope_id=UUID(str(fields["id"])),
                key_id=key_id,
                kind=EnvelopeKind(fields["kind"]),
                day=date.fromisoformat(str(fields["day"])),
                version=version,
            )
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise EnvelopeRefused("header") from None
        if header.to_bytes() != data:
            raise EnvelopeRefused("header-not-canonical")
        return header


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate field")
    return dict(pairs)


# --- sealing and checking -----------------------------------------------------------------------


def bucket_for(length: int) -> int:
    """The padded size of `length` bytes of plaintext."""
    for bucket in BUCKETS:
        if length < bucket:
            return bucket
    raise ValueError(f"content larger than {MAX_PLAINTEXT_BYTES} bytes cannot be sealed")


def seal(
    plaintext: bytes,
    *,
    to: CommissionPublicKey,
    kind: EnvelopeKind,
    envelope_id: UUID,
    day: date,
    version: int = VERSION,
) -> bytes:
    """One envelope of `plaintext` that only the holder of `to`'s private key can open.

    `version` 1 only to make envelopes as older sealers did (the tests of compatibility)."""
    if version not in VERSIONS:
        raise ValueError(f"envelope versions are {VERSIONS}")
    header = EnvelopeHeader(envelope_id=envelope_id, key_id=to.key_id, kind=kind, day=day,
                            version=version)
    header_bytes = header.to_bytes()
    associated = _PREFIX.pack(MAGIC, len(header_bytes)) + header_bytes
    data_key = random_bytes(KEY_BYTES)
    nonce = random_bytes(NONCE_BYTES)
    padded = sodium.sodium_pad(plaintext, bucket_for(len(plaintext)))
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        padded, associated, nonce, data_key
    )
    envelope = associated + sodium.crypto_box_seal(data_key, to.key) + nonce + ciphertext
    return envelope + hashlib.sha256(envelope).digest() if version >= 2 else envelope


def _digest_bytes(version: int) -> int:
    return DIGEST_BYTES if version >= 2 else 0


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """What can be known of an envelope without the private key."""

    header: EnvelopeHeader
    size_bucket: int
    size: int

    @property
    def body(self) -> slice:
        """Where the sealed data key, the nonce and the ciphertext are (after them, the digest)."""
        end = self.size - _digest_bytes(self.header.version)
        return slice(end - self.size_bucket - TAG_BYTES - NONCE_BYTES - SEALED_KEY_BYTES, end)


def inspect(envelope: bytes, *, kind: EnvelopeKind | None = None) -> EnvelopeInfo:
    """Check everything of an envelope that needs no key: its whole structure and, from
    version 2, its digest (not its content: that needs the private key)."""
    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise EnvelopeRefused("too-large")
    if len(envelope) < _PREFIX.size:
        raise EnvelopeRefused("truncated")
    magic, header_length = _PREFIX.unpack_from(envelope)
    if magic != MAGIC:
        raise EnvelopeRefused("not-an-envelope")
    if header_length > MAX_HEADER_BYTES:
        raise EnvelopeRefused("header")
    body_start = _PREFIX.size + header_length
    if len(envelope) < body_start + SEALED_KEY_BYTES + NONCE_BYTES + TAG_BYTES:
        raise EnvelopeRefused("truncated")
    header = EnvelopeHeader.from_bytes(envelope[_PREFIX.size : body_start])
    if kind is not None and header.kind is not kind:
        raise EnvelopeRefused("wrong-kind")
    if not _usable_point(envelope[body_start : body_start + KEY_BYTES]):
        raise EnvelopeRefused("sealed-key")  # the sealed box's ephemeral key: opens for nobody
    body_end = len(envelope) - _digest_bytes(header.version)
    padded_size = body_end - body_start - SEALED_KEY_BYTES - NONCE_BYTES - TAG_BYTES
    if padded_size not in BUCKETS:
        raise EnvelopeRefused("truncated" if padded_size < BUCKETS[-1] else "too-large")
    if header.version >= 2 and not hmac.compare_digest(
        hashlib.sha256(envelope[:body_end]).digest(), envelope[body_end:]
    ):
        raise EnvelopeRefused("damaged")
    return EnvelopeInfo(header=header, size_bucket=padded_size, size=len(envelope))


@dataclass(frozen=True, slots=True)
class SealedReport:
    """A report as it travels: its content envelope and, if given, its identity envelope."""

    envelope_id: UUID
    key_id: str
    day: date
    envelope: bytes = field(repr=False)
    identity_envelope: bytes | None = field(default=None, repr=False)


def check_sealed_report(
    envelope: bytes, identity_envelope: bytes | None, *, known_key_ids: frozenset[str]
) -> tuple[EnvelopeInfo, EnvelopeInfo | None]:
    """Everything a server can check of a report without opening it.

    Both envelopes well formed, of the right kinds, sealed to a key we know, and (when there is
    an identity envelope) bound to the same report: same id, same key, same day.
    """
    info = inspect(envelope, kind=EnvelopeKind.report)
    if info.header.key_id not in known_key_ids:
        raise EnvelopeRefused("unknown-key")
    if identity_envelope is None:
        return info, None
    identity = inspect(identity_envelope, kind=EnvelopeKind.identity)
    mine, theirs = info.header, identity.header
    if (theirs.envelope_id, theirs.key_id, theirs.day) != (
        mine.envelope_id, mine.key_id, mine.day
    ):
        raise EnvelopeRefused("identity-mismatch")
    return info, identity


# --- opening (the commission's offline tool and tests only) -------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    header: EnvelopeHeader
    plaintext: bytes = field(repr=False)


def open_envelope(envelope: bytes, keys: Mapping[str, PrivateKey]) -> Opened:
    """Open with the private key the header names; refuses any envelope that was altered."""
    info = inspect(envelope)
    private_key = keys.get(info.header.key_id)
    if private_key is None:
        raise EnvelopeRefused("unknown-key")
    body = envelope[info.body]
    sealed_key = body[:SEALED_KEY_BYTES]
    nonce = body[SEALED_KEY_BYTES : SEALED_KEY_BYTES + NONCE_BYTES]
    try:
        data_key = sodium.crypto_box_seal_open(
            sealed_key, bytes(private_key.public_key), bytes(private_key)
        )
        padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            body[SEALED_KEY_BYTES + NONCE_BYTES :], envelope[: info.body.start], nonce, data_key
        )
        plaintext = sodium.sodium_unpad(padded, info.size_bucket)
    except (CryptoError, SodiumRuntimeError, ValueError):
        raise EnvelopeRefused("cannot-open") from None
    return Opened(header=info.header, plaintext=plaintext)


# --- what is sealed -----------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class _AttachmentEntry(_Strict):
    name: str = Field(min_length=1, max_length=255)
    media_type: str = Field(min_length=3, max_length=127)
    size: int = Field(ge=0, le=MAX_PLAINTEXT_BYTES)


class _Manifest(_Strict):
    format: int = Field(ge=1, le=1)
    subject: str | None = Field(default=None, max_length=200)
    text: str = Field(min_length=1, max_length=100_000)
    attachments: list[_AttachmentEntry] = Field(default_factory=list, max_length=100)
    receipt_digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    media_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReportContent:
    """What the reporter says and shows; the plaintext of a `report` envelope."""

    text: str = field(repr=False)
    subject: str | None = field(default=None, repr=False)
    attachments: tuple[Attachment, ...] = ()
    # Sealed with the content when intake issues the receipt, so the commission can tell that
    # whoever shows the receipt made this report (a client-sealed report has none).
    receipt_digest: str | None = None

    def to_plaintext(self) -> bytes:
        manifest = _Manifest(
            format=1,
            subject=self.subject,
            text=self.text,
            attachments=[
                _AttachmentEntry(name=a.name, media_type=a.media_type, size=len(a.data))
                for a in self.attachments
            ],
            receipt_digest=self.receipt_digest,
        ).model_dump_json(exclude_none=True).encode("utf-8")
        return b"".join(
            (_MANIFEST_LENGTH.pack(len(manifest)), manifest, *(a.data for a in self.attachments))
        )

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> ReportContent:
        try:
            (length,) = _MANIFEST_LENGTH.unpack_from(plaintext)
            if length > _MAX_MANIFEST_BYTES:
                raise ValueError("manifest too large")
            start = _MANIFEST_LENGTH.size
            manifest = _Manifest.model_validate_json(plaintext[start : start + length])
        except (struct.error, ValueError, ValidationError):
            raise EnvelopeRefused("content") from None
        offset = start + length
        attachments = []
        for entry in manifest.attachments:
            data = plaintext[offset : offset + entry.size]
            if len(data) != entry.size:
                raise EnvelopeRefused("content")
            attachments.append(Attachment(entry.name, entry.media_type, data))
            offset += entry.size
        if offset != len(plaintext):
            raise EnvelopeRefused("content")
        return cls(
            text=manifest.text,
            subject=manifest.subject,
            attachments=tuple(attachments),
            receipt_digest=manifest.receipt_digest,
        )


class ReporterIdentity(_Strict):
    """Who the reporter is, when they choose to say; the plaintext of an `identity` envelope."""

    name: str | None = Field(default=None, max_length=200, repr=False)
    national_number: str | None = Field(default=None, max_length=40, repr=False)
    phone: str | None = Field(default=None, max_length=40, repr=False)
    email: str | None = Field(default=None, max_length=254, repr=False)
    citizen_id: UUID | None = Field(
        default=None, repr=False, description="The reporter's account, when they attach it."
    )
    note: str | None = Field(default=None, max_length=1000, repr=False)

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


def seal_report(
    content: ReportContent,
    identity: ReporterIdentity | None,
    *,
    to: CommissionPublicKey,
    day: date,
    envelope_id: UUID | None = None,
) -> SealedReport:
    """Seal a report's content and (if given) the reporter's identity, as two envelopes."""
    envelope_id = envelope_id or uuid4()
    envelope = seal(
        content.to_plaintext(), to=to, kind=EnvelopeKind.report, envelope_id=envelope_id, day=day
    )
    identity_envelope = None
    if identity is not None and not identity.is_empty():
        identity_envelope = seal(
            identity.model_dump_json(exclude_none=True).encode("utf-8"),
            to=to,
            kind=EnvelopeKind.identity,
            envelope_id=envelope_id,
            day=day,
        )
    return SealedReport(envelope_id, to.key_id, day, envelope, identity_envelope)


def open_report(envelope: bytes, keys: Mapping[str, PrivateKey]) -> tuple[Opened, ReportContent]:
    opened = open_envelope(envelope, keys)
    if opened.header.kind is not EnvelopeKind.report:
        raise EnvelopeRefused("wrong-kind")
    return opened, ReportContent.from_plaintext(opened.plaintext)


def open_identity(
    identity_envelope: bytes, keys: Mapping[str, PrivateKey]
) -> tuple[Opened, ReporterIdentity]:
    opened = open_envelope(identity_envelope, keys)
    if opened.header.kind is not EnvelopeKind.identity:
        raise EnvelopeRefused("wrong-kind")
    try:
        return opened, ReporterIdentity.model_validate_json(opened.plaintext)
    except ValidationError:
        raise EnvelopeRefused("content") from None


# --- days and receipts --------------------------------------------------------------------------


def report_day(clock: Clock) -> date:
    """Today in Amman: reports carry a day, never an instant (a precise time helps identify)."""
    return clock.now().astimezone(AMMAN).date()


def start_of(day: date) -> datetime:
    """The instant a day starts in Amman, in UTC."""
    return datetime.combine(day, time(0), tzinfo=AMMAN).astimezone(UTC)


def day_stamp(clock: Clock) -> datetime:
    """The start of today in Amman: the instant events about reports carry (`Outbox.at`).

    Every event carries the instant it occurred; for a report, that instant would say when the
    reporter pressed send."""
    return start_of(report_day(clock))


def new_receipt() -> str:
    """A random receipt the reporter follows a report by (100 bits): `7K3QD-…` in 4 groups."""
    raw = random_bytes(_RECEIPT_GROUPS * _RECEIPT_GROUP_LENGTH * 5 // 8)
    value = int.from_bytes(raw, "big")
    digits = []
    for _ in range(_RECEIPT_GROUPS * _RECEIPT_GROUP_LENGTH):
        value, index = divmod(value, 32)
        digits.append(_RECEIPT_ALPHABET[index])
    text = "".join(digits)
    return "-".join(
        text[i : i + _RECEIPT_GROUP_LENGTH] for i in range(0, len(text), _RECEIPT_GROUP_LENGTH)
    )


def normalise_receipt(text: str) -> str | None:
    """A receipt as typed (lower case, no dashes, O for 0, I or L for 1) in its canonical
    form without dashes, or None when it cannot be one."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(_LOOKALIKES)
    expected = _RECEIPT_GROUPS * _RECEIPT_GROUP_LENGTH
    if len(cleaned) != expected or any(c not in _RECEIPT_ALPHABET for c in cleaned):
        return None
    return cleaned


def receipt_digest(receipt: str) -> str:
    """What the platform keeps of a receipt: a SHA-256 of it (100 random bits, not reversible).

    Raises ValueError for a string that is not a receipt.
    """
    canonical = normalise_receipt(receipt)
    if canonical is None:
        raise ValueError("not a receipt")
    return hashlib.sha256(b"bekhedmetkom-receipt\n" + canonical.encode("ascii")).hexdigest()
