"""Access tokens: the one place where the platform signs and verifies JWTs.

Every service turns a bearer token into a `Principal` with `TokenVerifier.verify`; the services
that sign people in (intake for citizens, routing for staff) mint tokens with `TokenIssuer`.
This is the only module allowed to import python-jose: elsewhere, use what it exports.

What it must never do:
- accept an algorithm other than ES256 (ECDSA P-256). `none`, HMAC (a public key used as an HMAC
  secret is the classic key-confusion attack), RSA and the other curves are refused on the raw
  header, before python-jose sees the token;
- trust keys or extensions the token points at (`jku`, `jwk`, `x5u`, `x5c`, `crit`): keys come
  only from our own key set, looked up by `kid`;
- let python-jose judge time: jose only checks the signature and every claim is checked here,
  on the clock the issuer or verifier was given (a test hands in its own to make expiry come);
- time tokens by the simulated business clock: they are issued and judged in real time
  (`shared.clock.WALL_CLOCK`, the default), so an operator's jump of days expires nobody's
  token and no token looks issued in the future;
- log a token or put one in an error;
- use the generated development keys in production.

Key files
    Public keys: a JWKS file (`BKH_JWT_PUBLIC_KEYS_FILE`), several keys at once during rotation.
    Signing key: a PKCS#8 PEM file (`BKH_JWT_SIGNING_KEY_FILE`, issuers only); its kid is the one
    line of the sibling file with the suffix `.kid` (`signing.pem` → `signing.kid`).
    Outside production, when neither is configured, a development pair is generated once under
    `var/dev-keys/es256/` (`signing.pem`, `signing.kid`, `jwks.json`); its kid starts with `dev-`
    and production refuses any such kid and anything under `var/dev-keys`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import isfinite
from pathlib import Path
from typing import Any, Final, NamedTuple, NoReturn

from cachetools import LRUCache
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws
from jose.backends.cryptography_backend import CryptographyECKey
from jose.exceptions import JOSEError

from shared.clock import WALL_CLOCK, Clock
from shared.errors import Conflict, Forbidden, Text, Unauthorized
from shared.events.vocabulary import Role as Role  # re-exported: tokens carry it
from shared.settings import VAR_DIR, PlatformSettings

ALGORITHM: Final = "ES256"
TOKEN_TYPE: Final = "at+jwt"
MAX_TOKEN_LENGTH: Final = 8 * 1024
DEFAULT_LIFETIME: Final = timedelta(minutes=10)
DEFAULT_LEEWAY: Final = timedelta(seconds=30)
# A rotated refresh token presented again this soon is one app refreshing from two calls at
# once, not a stolen copy: the issuers refuse it with `RefreshTokenJustRotated` and keep the
# session. Later, a reuse revokes the token's whole family.
REFRESH_REUSE_GRACE: Final = timedelta(seconds=10)
# No issuer of ours mints longer tokens; a longer one means a misconfigured or rogue issuer.
DEFAULT_MAX_LIFETIME: Final = timedelta(hours=24)
# Tokens whose signature a verifier remembers (about 2 KB each), least recently used first out.
VERIFIED_CACHE_SIZE: Final = 4096
DEV_KID_PREFIX: Final = "dev-"
DEV_KEYS_DIR: Final = VAR_DIR / "dev-keys"

_FORBIDDEN_HEADERS: Final = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
_ACCEPTED_TYPES: Final = frozenset({"jwt", "at+jwt", "application/at+jwt"})
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")
_KID: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_P256_COORDINATE_BYTES: Final = 32
_LAST_NUMERIC_DATE: Final = 253_402_300_799  # 9999-12-31T23:59:59Z, the end of `datetime`

_INVALID: Final = Text("رمز الدخول غير صالح", "Invalid access token")
_EXPIRED: Final = Text("انتهت صلاحية رمز الدخول", "The access token has expired")
_MALFORMED_HEADER: Final = Text("ترويسة Authorization غير سليمة", "Malformed Authorization header")
_NOT_ALLOWED: Final = Text("لا تملك صلاحية هذا الإجراء", "You are not allowed to do this")


class RefreshTokenJustRotated(Conflict):
    """Both issuers' answer to a refresh token reused within `REFRESH_REUSE_GRACE`."""

    code = "refresh-token-just-rotated"
    title = Text(
        "استُخدم رمز التحديث هذا للتو في طلب آخر من الجلسة نفسها؛ استعمل الرموز التي حصل عليها",
        "This refresh token was just used by another call of the same session; use the tokens "
        "that call received",
    )


# Roles that oversee every entity; everyone else acts only for the entities (or sectors) listed.
_SEES_ALL_ENTITIES: Final = frozenset({Role.cmu_staff, Role.cmu_admin, Role.decision_maker})


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling, as the verified token says."""

    subject: str
    role: Role
    token_id: str
    expires_at: datetime
    entity_ids: frozenset[str] = frozenset()
    sector_ids: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()

    @property
    def sees_all_entities(self) -> bool:
        return self.role in _SEES_ALL_ENTITIES

    def may_act_for_entity(self, entity_id: str, *, sector_id: str | None = None) -> bool:
        """Whether this person may act for `entity_id` (whose sector is `sector_id`, if known)."""
        if self.role in _SEES_ALL_ENTITIES:
            return True
        if self.role is Role.citizen:
            return False  # whatever a token claims, a citizen acts for no entity
        if entity_id in self.entity_ids:
            return True
        return sector_id is not None and sector_id in self.sector_ids

    def sees_request(self, *, entity_id: str | None, sector_id: str | None,
                     distributed_to: str | None) -> bool:
        """Whether a request held by `entity_id` (of `sector_id`), distributed to
        `distributed_to` if it was, lies within this person's scope. The one rule of it:

        - CMU staff and administrators, decision makers: every request;
        - a sub-liaison officer: what was distributed to their entity or department;
        - main liaison officers and ministers: their sector's requests;
        - entity heads: their entity's requests; anyone else: none.

        Scope is not permission: what someone may *do* with a request they see is each
        service's own decision (decision makers, who see every request here, handle none).
        """
        if self.sees_all_entities:
            return True
        if self.role is Role.sub_liaison_officer:
            return distributed_to is not None and self.may_act_for_entity(distributed_to)
        return entity_id is not None and self.may_act_for_entity(entity_id,
                                                                  sector_id=sector_id)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def require_role(principal: Principal, *roles: Role) -> None:
    """Raise `Forbidden` unless the principal holds one of `roles`."""
    if principal.role not in roles:
        raise Forbidden(_NOT_ALLOWED)


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None when there is no header at all."""
    if authorization_header is None:
        return None
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token.split()) != 1:
        raise Unauthorized(_MALFORMED_HEADER)
    return token


# --- key material --------------------------------------------------------------------------------


def _check_kid(kid: object) -> str:
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise ValueError("a kid is 1 to 128 characters of [A-Za-z0-9._:-]")
    return kid


def _check_p256(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"only P-256 keys are accepted, not {key.curve.name}")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes:
    """Strict base64url without padding; only the canonical spelling of the bytes is accepted."""
    if not _SEGMENT.fullmatch(segment):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if _b64encode(data) != segment:
        raise ValueError("not canonical base64url")
    return data


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One ES256 private key and its kid; only issuers hold one."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_kid(self.kid)
        _check_p256(self.private_key)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, pem: bytes, kid: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the signing key is not an EC private key")
        return cls(kid, key)

    def save(self, path: Path) -> None:
        """Write the PEM (mode 0600) and its kid to `path` and `path.with_suffix('.kid')`."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(self.to_pem())
        _kid_file(path).write_text(self.kid + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        kid = _kid_file(path).read_text(encoding="utf-8").strip()
        return cls.from_pem(path.read_bytes(), kid)


def _kid_file(pem_path: Path) -> Path:
    return pem_path.with_suffix(".kid")


def generate_signing_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()))


class KeySet:
    """The public keys tokens may be signed with, by kid. Immutable: rotation builds a new one."""

    __slots__ = ("_jose_keys", "_keys")

    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey] | None = None) -> None:
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        # Key objects bound to ES256 here, so python-jose never builds a key from a token's say.
        self._jose_keys: dict[str, Any] = {}
        for kid, key in (keys or {}).items():
            _check_kid(kid)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise ValueError(f"key {kid!r} is not an EC public key")
            _check_p256(key)
            self._keys[kid] = key
            self._jose_keys[kid] = CryptographyECKey(key, ALGORITHM)

    @classmethod
    def of(cls, *signing_keys: SigningKey) -> KeySet:
        return cls({key.kid: key.public_key for key in signing_keys})

    def with_key(self, kid: str, key: ec.EllipticCurvePublicKey) -> KeySet:
        return KeySet({**self._keys, kid: key})

    def without(self, kid: str) -> KeySet:
        return KeySet({k: v for k, v in self._keys.items() if k != kid})

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def get(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        return self._keys.get(kid)

    def _jose_key(self, kid: str) -> Any:
        return self._jose_keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeySet(kids={sorted(self._keys)})"

    def to_jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in sorted(self._keys.items()):
            numbers = key.public_numbers()
            keys.append({
                "kty": "EC",
                "crv": "P-256",
                "kid": kid,
                "use": "sig",
                "alg": ALGORITHM,
                "x": _b64encode(numbers.x.to_bytes(_P256_COORDINATE_BYTES, "big")),
                "y": _b64encode(numbers.y.to_bytes(_P256_COORDINATE_BYTES, "big")),
            })
        return {"keys": keys}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        """Read a JWKS of P-256 public keys; anything else in it is an error, not skipped."""
        entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("a JWKS is an object with a 'keys' list")
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise ValueError("a JWK is an object")
            kid = _check_kid(entry.get("kid"))
            if kid in keys:
                raise ValueError(f"kid {kid!r} appears twice")
            if "d" in entry:
                raise ValueError(f"key {kid!r}: private key material in a public key set")
            if entry.get("kty") != "EC" or entry.get("crv") != "P-256":
                raise ValueError(f"key {kid!r}: only EC P-256 keys are accepted")
            if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
                raise ValueError(f"key {kid!r}: only ES256 signature keys are accepted")
            x, y = entry.get("x"), entry.get("y")
            if not isinstance(x, str) or not isinstance(y, str):
                raise ValueError(f"key {kid!r}: x and y are required")
            try:
                x_bytes, y_bytes = _b64decode(x), _b64decode(y)
            except (ValueError, binascii.Error) as exc:
                raise ValueError(f"key {kid!r}: x and y must be base64url") from exc
            if len(x_bytes) != _P256_COORDINATE_BYTES or len(y_bytes) != _P256_COORDINATE_BYTES:
                raise ValueError(f"key {kid!r}: x and y must be 32 bytes each")
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x_bytes, "big"), int.from_bytes(y_bytes, "big"), ec.SECP256R1()
            )
            keys[kid] = numbers.public_key()  # refuses a point that is not on the curve
        return cls(keys)


# --- issuing -------------------------------------------------------------------------------------


def _clean_ids(values: Iterable[str], what: str) -> list[str]:
    cleaned = sorted(set(values))
    if any(not isinstance(v, str) or not v or any(c.isspace() for c in v) for v in cleaned):
        raise ValueError(f"{what} must be non-empty strings without spaces")
    return cleaned


class TokenIssuer:
    """Signs access tokens with one private key."""

    def __init__(
        self,
        signing_key: SigningKey,
        *,
        issuer: str,
        audience: str,
        clock: Clock = WALL_CLOCK,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> None:
        _check_lifetime(lifetime)
        self._signing_key = signing_key
        self._jose_key = CryptographyECKey(signing_key.private_key, ALGORITHM)
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._lifetime = lifetime

    @property
    def kid(self) -> str:
        return self._signing_key.kid

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def issue(
        self,
        subject: str,
        role: Role,
        *,
        entity_ids: Iterable[str] = (),
        sector_ids: Iterable[str] = (),
        scopes: Iterable[str] = (),
        lifetime: timedelta | None = None,
    ) -> str:
        lifetime = self._lifetime if lifetime is None else lifetime
        _check_lifetime(lifetime)
        if not isinstance(subject, str) or not subject:
            raise ValueError("a token needs a subject")
        issued_at = int(self._clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": issued_at,
            "exp": issued_at + int(lifetime.total_seconds()),
            "jti": str(uuid.uuid4()),
            "role": Role(role).value,
            "entities": _clean_ids(entity_ids, "entity ids"),
            "sectors": _clean_ids(sector_ids, "sector ids"),
            "scope": " ".join(_clean_ids(scopes, "scopes")),
        }
        token: str = jws.sign(
            claims, self._jose_key, headers={"kid": self.kid, "typ": TOKEN_TYPE},
            algorithm=ALGORITHM,
        )
        if len(token) > MAX_TOKEN_LENGTH:
            # Every verifier would refuse it; better to fail where the cause is visible.
            raise ValueError("the token would exceed the size verifiers accept")
        return token


def _check_lifetime(lifetime: timedelta) -> None:
    if not timedelta(seconds=1) <= lifetime <= DEFAULT_MAX_LIFETIME:
        raise ValueError(f"a token lifetime is between 1 s and {DEFAULT_MAX_LIFETIME}")


# --- verifying -----------------------------------------------------------------------------------


def _refuse(detail: Text = _INVALID) -> NoReturn:
    # `from None` everywhere: no chained exception may carry a piece of the token into a log.
    raise Unauthorized(detail)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")  # two `alg`s or two `sub`s read differently
    return result


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes) -> dict[str, Any]:
    value = json.loads(
        data.decode("utf-8"),
        object_pairs_hook=_no_duplicate_keys,
        parse_constant=_refuse_constant,
    )
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _verify_signature(token: str, key: Any) -> bytes:
    # The signature alone: claims (and time) are python-jose's blind spot, checked below.
    payload: bytes = jws.verify(token, key, algorithms=[ALGORITHM])
    return payload


def _string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        _refuse()
    return value


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        _refuse()
    if not isfinite(value) or not 0 <= value <= _LAST_NUMERIC_DATE:
        _refuse()
    return float(value)


def _string_set(claims: Mapping[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        _refuse()
    return frozenset(value)


class _Verified(NamedTuple):
    kid: str
    key: Any
    claims: Mapping[str, Any]


class TokenVerifier:
    """Turns a bearer token into a `Principal`, or raises `Unauthorized`.

    An app presents the same token on every call of its session, and checking an ES256
    signature is most of what a verification costs. The same string is the same signature over
    the same bytes, so the claims of a signature once checked are remembered, never the verdict:
    a remembered token still needs its key in the current key set, and every claim, time
    included, is judged again on each call.
    """

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        clock: Clock = WALL_CLOCK,
        leeway: timedelta = DEFAULT_LEEWAY,
        max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._leeway = leeway.total_seconds()
        self._max_lifetime = max_lifetime.total_seconds()
        self._verified: LRUCache[str, _Verified] = LRUCache(maxsize=cache_size)
        # Verification runs on event loops but also in worker threads (sync endpoints, tests).
        self._verified_lock = threading.Lock()

    @property
    def keys(self) -> KeySet:
        return self._keys

    def replace_keys(self, keys: KeySet) -> None:
        """Swap the key set (rotation) without rebuilding the verifier."""
        self._keys = keys  # remembered tokens of a withdrawn key fail `verify`'s key check

    def verify(self, token: str) -> Principal:
        with self._verified_lock:
            known = self._verified.get(token) if isinstance(token, str) else None
        if known is not None and self._keys._jose_key(known.kid) is known.key:
            try:
                return self._principal(known.claims)
            except Unauthorized:
                with self._verified_lock:
                    self._verified.pop(token, None)  # expired: it will not verify again
                raise
        kid, key = self._key_for(token)
        try:
            claims = _json_object(_verify_signature(token, key))
        except (JOSEError, ValueError, TypeError, RecursionError):
            _refuse()
        principal = self._principal(claims)
        with self._verified_lock:
            self._verified[token] = _Verified(kid, key, claims)
        return principal

    def _key_for(self, token: str) -> tuple[str, Any]:
        """Everything decided before a signature is checked: size, shape, header, key."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            _refuse()
        segments = token.split(".")
        if len(segments) != 3:
            _refuse()
        try:
            header_bytes = _b64decode(segments[0])
            _b64decode(segments[1])
            _b64decode(segments[2])
            header = _json_object(header_bytes)
        except (ValueError, RecursionError):  # deep nesting overflows the JSON parser
            _refuse()
        if header.get("alg") != ALGORITHM:
            _refuse()
        if not _FORBIDDEN_HEADERS.isdisjoint(header):
            _refuse()
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES):
            _refuse()
        kid = header.get("kid")
        if not isinstance(kid, str):
            _refuse()
        key = self._keys._jose_key(kid)
        if key is None:
            _refuse()
        return kid, key

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        if _string(claims, "iss") != self._issuer:
            _refuse()
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self._audience not in audiences:
            _refuse()
        subject = _string(claims, "sub")
        token_id = _string(claims, "jti")
        expires = _numeric_date(claims, "exp")
        issued = _numeric_date(claims, "iat")
        if not issued < expires <= issued + self._max_lifetime:
            _refuse()
        role_claim = claims.get("role")
        if not isinstance(role_claim, str):
            _refuse()
        try:
            role = Role(role_claim)
        except ValueError:
            _refuse()
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            _refuse()
        entity_ids = _string_set(claims, "entities")
        sector_ids = _string_set(claims, "sectors")

        now = self._clock.now().timestamp()
        if issued > now + self._leeway:
            _refuse()  # issued in the future: a skewed or forged issuer
        if "nbf" in claims and _numeric_date(claims, "nbf") > now + self._leeway:
            _refuse()
        if now >= expires + self._leeway:
            _refuse(_EXPIRED)
        return Principal(
            subject=subject,
            role=role,
            token_id=token_id,
            expires_at=datetime.fromtimestamp(expires, UTC),
            entity_ids=entity_ids,
            sector_ids=sector_ids,
            scopes=frozenset(scope.split()),
        )


# --- loading keys --------------------------------------------------------------------------------


def load_keys(
    settings: PlatformSettings, *, dev_dir: Path | None = None
) -> tuple[KeySet, SigningKey | None]:
    """The verification keys, and the signing key when this service issues tokens.

    Configured files win. Outside production, with neither file configured, a development pair
    is generated once under `dev_dir` (default `var/dev-keys`) and shared by every process.
    """
    public_file = settings.jwt_public_keys_file
    signing_file = settings.jwt_signing_key_file
    if public_file is None and signing_file is None:
        if settings.production:
            raise RuntimeError(
                "BKH_JWT_PUBLIC_KEYS_FILE must be set in production (no generated dev keys)"
            )
        return _development_keys(dev_dir or DEV_KEYS_DIR)
    if public_file is None:
        raise RuntimeError("BKH_JWT_SIGNING_KEY_FILE is set without BKH_JWT_PUBLIC_KEYS_FILE")

    if settings.production:
        dev_roots = [DEV_KEYS_DIR] + ([dev_dir] if dev_dir is not None else [])
        for path in (public_file, signing_file):
            if path is not None and any(
                path.resolve().is_relative_to(root.resolve()) for root in dev_roots
            ):
                raise RuntimeError(f"{path}: development keys are refused in production")

    keys = _read_jwks(public_file)
    signing = None
    if signing_file is not None:
        try:
            signing = SigningKey.load(signing_file)
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"{signing_file}: unusable signing key: {exc}") from None
    _check_pair(keys, signing)
    if settings.production:
        kids = set(keys.kids) | ({signing.kid} if signing else set())
        if any(kid.startswith(DEV_KID_PREFIX) for kid in kids):
            raise RuntimeError("development keys (kid 'dev-…') are refused in production")
    return keys, signing


def _read_jwks(path: Path) -> KeySet:
    try:
        keys = KeySet.from_jwks(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"{path}: unusable public key set: {exc}") from None
    if not keys:
        raise RuntimeError(f"{path}: the public key set is empty")
    return keys


def _check_pair(keys: KeySet, signing: SigningKey | None) -> None:
    if signing is None:
        return
    published = keys.get(signing.kid)
    if published is None or _point(published) != _point(signing.public_key):
        # Tokens signed with it would fail verification everywhere.
        raise RuntimeError(f"the signing key {signing.kid!r} is not in the public key set")


def generate_once(final: Path, build: Callable[[Path], None]) -> None:
    """Make the folder of development keys `final` unless it exists: `build` fills a private
    folder beside it, renamed into place in one step. Processes starting together race, exactly
    one rename wins and the others read the winner's keys."""
    if final.exists():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=final.parent))  # mode 0700
    try:
        build(staging)
        try:
            os.rename(staging, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _development_keys(root: Path) -> tuple[KeySet, SigningKey]:
    final = root / "es256"

    def build(staging: Path) -> None:
        key = generate_signing_key(DEV_KID_PREFIX + uuid.uuid4().hex[:12])
        key.save(staging / "signing.pem")
        (staging / "jwks.json").write_text(
            json.dumps(KeySet.of(key).to_jwks(), indent=2) + "\n", encoding="utf-8"
        )

    generate_once(final, build)
    keys = _read_jwks(final / "jwks.json")
    signing = SigningKey.load(final / "signing.pem")
    _check_pair(keys, signing)
    return keys, signing
