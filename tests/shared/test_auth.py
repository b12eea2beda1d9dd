"""Access tokens: what `shared.auth` must refuse, and what it must accept.

Hostile tokens are built by hand (header, claims and signature), so each negative test differs
from an accepted token in exactly the property under test; `test_a_hand_built_es256_token_is_
accepted` shows the hand-built tokens are otherwise good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared import auth
from shared.auth import (
    DEFAULT_LEEWAY,
    DEFAULT_MAX_LIFETIME,
    MAX_TOKEN_LENGTH,
    KeySet,
    Principal,
    Role,
    SigningKey,
    TokenIssuer,
    TokenVerifier,
    bearer_token,
    generate_signing_key,
    load_keys,
    require_role,
)
from shared.clock import SimulatedClock
from shared.errors import Forbidden, Unauthorized
from shared.settings import BaseServiceSettings, Environment

ISSUER = "https://bekhedmetkom.test"
AUDIENCE = "bekhedmetkom-api"
_DROP = object()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _encode(part: dict[str, Any] | bytes) -> str:
    return _b64(part if isinstance(part, bytes) else json.dumps(part).encode())


def _sign_ec(
    header: dict[str, Any] | bytes,
    claims: dict[str, Any] | bytes,
    key: ec.EllipticCurvePrivateKey,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> str:
    """A JWS with a genuine ECDSA signature over exactly the header and claims given."""
    signing_input = f"{_encode(header)}.{_encode(claims)}"
    r, s = decode_dss_signature(
        key.sign(signing_input.encode(), ec.ECDSA(hash_algorithm or hashes.SHA256()))
    )
    size = (key.curve.key_size + 7) // 8
    return f"{signing_input}.{_b64(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def key() -> SigningKey:
    return generate_signing_key("k1")


@pytest.fixture
def issuer(key: SigningKey, clock: SimulatedClock) -> TokenIssuer:
    return TokenIssuer(key, issuer=ISSUER, audience=AUDIENCE, clock=clock)


@pytest.fixture
def verifier(key: SigningKey, clock: SimulatedClock) -> TokenVerifier:
    return TokenVerifier(KeySet.of(key), issuer=ISSUER, audience=AUDIENCE, clock=clock)


@pytest.fixture
def jose_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every signature check python-jose is asked to do."""
    calls: list[str] = []
    real_verify = auth._verify_signature

    def spy(token: str, key: Any) -> bytes:
        calls.append("verify")
        return real_verify(token, key)

    monkeypatch.setattr(auth, "_verify_signature", spy)
    return calls


def _claims(clock: SimulatedClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "role": "entity_head",
        "entities": ["E1"],
        "sectors": [],
        "scope": "complaints:read",
    }
    for name, value in changes.items():
        if value is _DROP:
            del claims[name]
        else:
            claims[name] = value
    return claims


def _es256(key: SigningKey, claims: dict[str, Any] | bytes, **header: Any) -> str:
    return _sign_ec({"alg": "ES256", "kid": key.kid, **header}, claims, key.private_key)


def _refused(verifier: TokenVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    return caught.value


# --- what is accepted ----------------------------------------------------------------------------


def test_a_valid_token_verifies_into_the_expected_principal(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = issuer.issue(
        "officer-7", Role.main_liaison_officer,
        entity_ids=["E1", "E2"], sector_ids=["S1"], scopes=["complaints:read", "complaints:reply"],
    )
    principal = verifier.verify(token)
    assert principal.subject == "officer-7"
    assert principal.role is Role.main_liaison_officer
    assert principal.entity_ids == frozenset({"E1", "E2"})
    assert principal.sector_ids == frozenset({"S1"})
    assert principal.scopes == frozenset({"complaints:read", "complaints:reply"})
    assert uuid.UUID(principal.token_id)
    expected_expiry = datetime.fromtimestamp(int(clock.now().timestamp()), UTC) + issuer.lifetime
    assert abs(principal.expires_at - expected_expiry) <= timedelta(seconds=1)


def test_issued_tokens_carry_kid_es256_and_the_access_token_type(issuer: TokenIssuer) -> None:
    header = json.loads(_unb64(issuer.issue("c-1", Role.citizen).split(".")[0]))
    assert header == {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}


def test_each_issued_token_has_its_own_token_id(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    first = verifier.verify(issuer.issue("c-1", Role.citizen))
    second = verifier.verify(issuer.issue("c-1", Role.citizen))
    assert first.token_id != second.token_id


def test_a_hand_built_es256_token_is_accepted(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    assert verifier.verify(_es256(key, _claims(clock))).subject == "user-1"


def test_a_token_just_past_expiry_is_accepted_within_the_leeway(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    clock.advance(issuer.lifetime + DEFAULT_LEEWAY / 3)
    assert verifier.verify(token).subject == "c-1"


def test_an_audience_list_that_includes_ours_is_accepted(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = _es256(key, _claims(clock, aud=["other-api", AUDIENCE]))
    assert verifier.verify(token).subject == "user-1"


# --- algorithms ----------------------------------------------------------------------------------


def test_token_with_alg_none_is_refused(
    verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    token = f"{_encode({'alg': 'none', 'kid': 'k1'})}.{_encode(_claims(clock))}."
    _refused(verifier, token)
    assert jose_calls == []


@pytest.mark.parametrize("alg", ["None", "NONE", "es256", "", None, ["ES256"]])
def test_token_with_alg_other_than_exactly_es256_is_refused(
    alg: Any, key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock,
    jose_calls: list[str],
) -> None:
    token = _sign_ec({"alg": alg, "kid": key.kid}, _claims(clock), key.private_key)
    _refused(verifier, token)
    assert jose_calls == []


def test_token_hs256_signed_with_the_public_key_as_secret_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_encode({'alg': 'HS256', 'kid': key.kid})}.{_encode(_claims(clock))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused(verifier, f"{signing_input}.{_b64(mac)}")
    assert jose_calls == []


def test_token_with_alg_rs256_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signing_input = f"{_encode({'alg': 'RS256', 'kid': key.kid})}.{_encode(_claims(clock))}"
    signature = rsa_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    _refused(verifier, f"{signing_input}.{_b64(signature)}")
    assert jose_calls == []


@pytest.mark.parametrize(
    ("alg", "curve", "hash_algorithm"),
    [("ES384", ec.SECP384R1(), hashes.SHA384()), ("ES512", ec.SECP521R1(), hashes.SHA512())],
)
def test_token_with_another_ecdsa_curve_is_refused(
    alg: str, curve: ec.EllipticCurve, hash_algorithm: hashes.HashAlgorithm,
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str],
) -> None:
    other = ec.generate_private_key(curve)
    token = _sign_ec({"alg": alg, "kid": key.kid}, _claims(clock), other, hash_algorithm)
    _refused(verifier, token)
    assert jose_calls == []


# --- header --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("jku", "https://attacker.example/jwks.json"),
        ("jwk", {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
        ("x5u", "https://attacker.example/cert.pem"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIU"]),
        ("crit", ["exp"]),
    ],
)
def test_token_whose_header_names_keys_or_extensions_is_refused(
    name: str, value: Any, key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock,
    jose_calls: list[str],
) -> None:
    # Genuinely signed by the trusted key: only the header entry may stop it.
    _refused(verifier, _es256(key, _claims(clock), **{name: value}))
    assert jose_calls == []


def test_token_without_kid_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    token = _sign_ec({"alg": "ES256"}, _claims(clock), key.private_key)
    _refused(verifier, token)
    assert jose_calls == []


def test_token_with_unknown_kid_is_refused(
    verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    stranger = generate_signing_key("k9")
    _refused(verifier, _es256(stranger, _claims(clock)))
    assert jose_calls == []


def test_token_claiming_a_known_kid_but_signed_by_another_key_is_refused(
    verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    impostor = generate_signing_key("k1")
    _refused(verifier, _es256(impostor, _claims(clock)))


def test_token_with_a_foreign_type_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock), typ="dpop+jwt"))


def test_token_with_a_duplicated_header_member_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    header = b'{"alg":"ES256","kid":"k1","alg":"none"}'
    _refused(verifier, _sign_ec(header, _claims(clock), key.private_key))


# --- claims --------------------------------------------------------------------------------------


def test_expired_token_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    verifier.verify(token)
    clock.advance(issuer.lifetime + DEFAULT_LEEWAY + timedelta(seconds=2))
    problem = _refused(verifier, token)
    assert problem.detail is not None
    assert "expired" in problem.detail.en
    assert problem.detail.ar


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "jti", "role"])
def test_token_missing_a_required_claim_is_refused(
    claim: str, key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, **{claim: _DROP})))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", "9999999999"), ("exp", True), ("exp", None), ("iat", [1]), ("sub", ""),
     ("sub", 42), ("entities", "E1"), ("entities", [1]), ("scope", ["a"]), ("role", ["cmu_admin"])],
)
def test_token_with_a_mistyped_claim_is_refused(
    claim: str, value: Any, key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, **{claim: value})))


def test_token_with_non_finite_expiry_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    claims = json.dumps(_claims(clock)).replace(
        f'"exp": {_claims(clock)["exp"]}', '"exp": Infinity'
    ).encode()
    assert b"Infinity" in claims
    _refused(verifier, _es256(key, claims))


def test_token_from_another_issuer_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, iss="https://attacker.example")))


@pytest.mark.parametrize("aud", ["other-api", ["other-api"], [], {"aud": AUDIENCE}])
def test_token_for_another_audience_is_refused(
    aud: Any, key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, aud=aud)))


def test_token_issued_in_the_future_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    now = int(clock.now().timestamp())
    _refused(verifier, _es256(key, _claims(clock, iat=now + 300, exp=now + 900)))


def test_token_not_yet_valid_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, nbf=int(clock.now().timestamp()) + 300)))


def test_token_living_longer_than_any_issuer_allows_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    now = int(clock.now().timestamp())
    lifetime = int(DEFAULT_MAX_LIFETIME.total_seconds()) + 60
    _refused(verifier, _es256(key, _claims(clock, exp=now + lifetime)))


def test_token_with_unknown_role_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    _refused(verifier, _es256(key, _claims(clock, role="superuser")))


def test_token_with_a_duplicated_claim_is_refused(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    claims = json.dumps(_claims(clock))[:-1] + ', "role": "cmu_admin"}'
    _refused(verifier, _es256(key, claims.encode()))


# --- shape ---------------------------------------------------------------------------------------


def test_tampered_payload_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    header, payload, signature = issuer.issue("c-1", Role.citizen).split(".")
    claims = json.loads(_unb64(payload))
    claims["role"] = "cmu_admin"
    _refused(verifier, f"{header}.{_encode(claims)}.{signature}")


def test_tampered_signature_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    header, payload, signature = issuer.issue("c-1", Role.citizen).split(".")
    raw = bytearray(_unb64(signature))
    raw[10] ^= 0x01
    _refused(verifier, f"{header}.{payload}.{_b64(bytes(raw))}")


def test_oversized_token_is_refused_before_parsing(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _es256(key, _claims(clock, padding="x" * MAX_TOKEN_LENGTH))
    assert len(token) > MAX_TOKEN_LENGTH
    parsed: list[str] = []

    def spy(segment: str) -> bytes:
        parsed.append(segment)
        return b""

    monkeypatch.setattr(auth, "_b64decode", spy)
    _refused(verifier, token)
    assert parsed == []


def test_a_large_token_within_the_limit_is_accepted(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = _es256(key, _claims(clock, padding="x" * 4000))
    assert len(token) <= MAX_TOKEN_LENGTH
    assert verifier.verify(token).subject == "user-1"


def test_token_of_two_segments_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    header, payload, _ = issuer.issue("c-1", Role.citizen).split(".")
    _refused(verifier, f"{header}.{payload}")


def test_token_of_four_segments_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    _refused(verifier, issuer.issue("c-1", Role.citizen) + ".e30")


def test_token_with_padding_or_foreign_characters_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    header, payload, signature = token.split(".")
    for variant in (token + "=", f"{header}.{payload}.{signature[:5]}+{signature[5:]}",
                    f" {token}", f"{header}.{payload}\n.{signature}"):
        _refused(verifier, variant)


def test_token_with_a_non_canonical_base64_spelling_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    # A 64-byte signature leaves 4 unused bits in its last character; a lax decoder maps both
    # spellings to the same bytes, so the signature would still check out.
    header, payload, signature = issuer.issue("c-1", Role.citizen).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    respelt = signature[:-1] + alphabet[last ^ 0b0001]
    assert _unb64(respelt) == _unb64(signature)
    _refused(verifier, f"{header}.{payload}.{respelt}")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        ".",
        "..",
        "...",
        "a.b.c",
        "ü.ü.ü",
        "eyJ.eyJ.eyJ",
        "\x00.\x00.\x00",
        _encode(b"[]") + ".e30.AAAA",
        _encode(b"null") + ".e30.AAAA",
        _encode(b"\xff\xfe") + ".e30.AAAA",
        _encode(b"[" * 2000) + ".e30.AAAA",
        _encode({"alg": "ES256", "kid": "k1"}) + ".e30.AAAA",
        _encode({"alg": "ES256", "kid": "k1"}) + "." + _encode(b"[]") + ".AAAA",
    ],
)
def test_garbage_is_refused(garbage: str, verifier: TokenVerifier) -> None:
    _refused(verifier, garbage)


def test_refusal_does_not_repeat_the_token(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = _es256(key, _claims(clock, role="superuser"))
    problem = _refused(verifier, token)
    assert problem.detail is not None
    for text in (str(problem), problem.detail.en, problem.detail.ar, repr(problem.extensions)):
        assert token not in text
        assert token.split(".")[1] not in text
    assert problem.__cause__ is None
    assert problem.headers["WWW-Authenticate"] == "Bearer"


# --- keys and rotation ---------------------------------------------------------------------------


def test_during_rotation_tokens_of_both_keys_are_accepted(clock: SimulatedClock) -> None:
    old, new = generate_signing_key("2024-01"), generate_signing_key("2024-07")
    verifier = TokenVerifier(KeySet.of(old, new), issuer=ISSUER, audience=AUDIENCE, clock=clock)
    old_token = TokenIssuer(old, issuer=ISSUER, audience=AUDIENCE, clock=clock).issue(
        "c-1", Role.citizen)
    new_token = TokenIssuer(new, issuer=ISSUER, audience=AUDIENCE, clock=clock).issue(
        "c-2", Role.citizen)
    assert verifier.verify(old_token).subject == "c-1"
    assert verifier.verify(new_token).subject == "c-2"

    verifier.replace_keys(verifier.keys.without("2024-01"))
    _refused(verifier, old_token)
    assert verifier.verify(new_token).subject == "c-2"


# --- remembered signatures ----------------------------------------------------------------------


def test_a_token_seen_before_is_not_checked_again(
    issuer: TokenIssuer, verifier: TokenVerifier, jose_calls: list[str]
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    first, second = verifier.verify(token), verifier.verify(token)
    assert first == second
    assert jose_calls == ["verify"]


def test_a_remembered_token_still_expires(
    issuer: TokenIssuer, verifier: TokenVerifier, clock: SimulatedClock
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    verifier.verify(token)
    clock.advance(issuer.lifetime + DEFAULT_LEEWAY)
    assert _refused(verifier, token).detail == auth._EXPIRED
    assert _refused(verifier, token).detail == auth._EXPIRED


def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(
    key: SigningKey, issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    verifier.verify(token)
    verifier.replace_keys(verifier.keys.without(key.kid))
    _refused(verifier, token)
    verifier.replace_keys(KeySet.of(key))  # the key back: the token verifies afresh
    assert verifier.verify(token).subject == "c-1"


def test_another_signature_on_a_remembered_payload_is_checked_and_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, jose_calls: list[str]
) -> None:
    token = issuer.issue("c-1", Role.citizen)
    verifier.verify(token)
    signing_input, _, signature = token.rpartition(".")
    forged = _unb64(signature)
    forged = forged[:-1] + bytes([forged[-1] ^ 1])
    _refused(verifier, f"{signing_input}.{_b64(forged)}")
    assert jose_calls == ["verify", "verify"]


def test_a_refused_token_is_checked_again_every_time(
    key: SigningKey, verifier: TokenVerifier, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    token = _es256(key, _claims(clock, aud="other-api"))
    _refused(verifier, token)
    _refused(verifier, token)
    assert jose_calls == ["verify", "verify"]


def test_remembered_tokens_are_bounded(
    key: SigningKey, issuer: TokenIssuer, clock: SimulatedClock, jose_calls: list[str]
) -> None:
    verifier = TokenVerifier(KeySet.of(key), issuer=ISSUER, audience=AUDIENCE, clock=clock,
                             cache_size=2)
    first, *others = (issuer.issue(f"c-{n}", Role.citizen) for n in range(3))
    for token in (first, *others):
        verifier.verify(token)
    verifier.verify(first)  # pushed out by the two after it
    assert len(jose_calls) == 4


def test_key_set_survives_a_jwks_round_trip(
    key: SigningKey, issuer: TokenIssuer, clock: SimulatedClock
) -> None:
    jwks = json.loads(json.dumps(KeySet.of(key, generate_signing_key("k2")).to_jwks()))
    assert {entry["kid"] for entry in jwks["keys"]} == {"k1", "k2"}
    assert all("d" not in entry for entry in jwks["keys"])
    keys = KeySet.from_jwks(jwks)
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    assert verifier.verify(issuer.issue("c-1", Role.citizen)).subject == "c-1"


def _jwk(key: SigningKey, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = KeySet.of(key).to_jwks()["keys"][0]
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    "mutate",
    [
        lambda jwk: {**jwk, "d": "AAAA"},
        lambda jwk: {**jwk, "kty": "RSA"},
        lambda jwk: {**jwk, "crv": "P-384"},
        lambda jwk: {**jwk, "alg": "HS256"},
        lambda jwk: {**jwk, "use": "enc"},
        lambda jwk: {**jwk, "x": _b64(b"\x01" * 32)},  # off the curve
        lambda jwk: {**jwk, "x": jwk["x"] + "A"},
        lambda jwk: {k: v for k, v in jwk.items() if k != "kid"},
    ],
)
def test_a_jwks_with_a_foreign_or_private_key_is_refused(
    mutate: Callable[[dict[str, Any]], dict[str, Any]], key: SigningKey
) -> None:
    with pytest.raises(ValueError, match=r".+"):
        KeySet.from_jwks({"keys": [mutate(_jwk(key))]})


def test_a_jwks_with_a_kid_twice_is_refused(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="twice"):
        KeySet.from_jwks({"keys": [_jwk(key), _jwk(key)]})


def test_only_p256_keys_can_sign() -> None:
    with pytest.raises(ValueError, match="P-256"):
        SigningKey("k", ec.generate_private_key(ec.SECP384R1()))


def test_signing_key_pem_round_trip_keeps_the_file_private(
    key: SigningKey, tmp_path: Path
) -> None:
    path = tmp_path / "signing.pem"
    key.save(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (tmp_path / "signing.kid").read_text().strip() == "k1"
    loaded = SigningKey.load(path)
    assert loaded.kid == "k1"
    assert loaded.private_key.private_numbers() == key.private_key.private_numbers()
    assert "private_key" not in repr(loaded)


def test_issuer_refuses_to_mint_a_token_verifiers_would_refuse(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="size"):
        issuer.issue("u", Role.cmu_staff, entity_ids=[f"entity-{n}" for n in range(1000)])


# --- principal -----------------------------------------------------------------------------------


def _principal(role: Role, **fields: Any) -> Principal:
    return Principal(subject="s", role=role, token_id="t", expires_at=datetime.now(UTC), **fields)


def test_cmu_and_decision_makers_may_act_for_every_entity() -> None:
    for role in (Role.cmu_staff, Role.cmu_admin, Role.decision_maker):
        assert _principal(role).may_act_for_entity("E9")


def test_staff_act_only_for_their_entities_or_sectors() -> None:
    head = _principal(Role.entity_head, entity_ids=frozenset({"E1"}))
    assert head.may_act_for_entity("E1")
    assert not head.may_act_for_entity("E2")
    minister = _principal(Role.minister, sector_ids=frozenset({"S1"}))
    assert minister.may_act_for_entity("E2", sector_id="S1")
    assert not minister.may_act_for_entity("E2", sector_id="S2")
    assert not minister.may_act_for_entity("E2")


def test_a_citizen_acts_for_no_entity_whatever_the_token_lists() -> None:
    assert not _principal(Role.citizen, entity_ids=frozenset({"E1"})).may_act_for_entity("E1")


# A request held by E1 (sector S1), and what each scope makes of it.
_HELD = {"entity_id": "E1", "sector_id": "S1", "distributed_to": None}
_DISTRIBUTED = {**_HELD, "distributed_to": "E1-D"}
_IN_TRIAGE = {"entity_id": None, "sector_id": None, "distributed_to": None}


def test_the_cmu_and_decision_makers_see_every_request_even_in_triage() -> None:
    for role in (Role.cmu_staff, Role.cmu_admin, Role.decision_maker):
        assert all(_principal(role).sees_request(**request)
                   for request in (_HELD, _DISTRIBUTED, _IN_TRIAGE))


def test_a_sub_liaison_officer_sees_only_what_was_distributed_to_their_entity() -> None:
    department = _principal(Role.sub_liaison_officer, entity_ids=frozenset({"E1-D"}))
    assert department.sees_request(**_DISTRIBUTED)
    assert not department.sees_request(**_HELD)  # not before it is distributed to them
    entity = _principal(Role.sub_liaison_officer, entity_ids=frozenset({"E1"}),
                        sector_ids=frozenset({"S1"}))
    assert not entity.sees_request(**_DISTRIBUTED)  # the entity's is not the department's
    assert not entity.sees_request(**_HELD)


def test_sector_roles_see_their_sector_and_heads_their_entity() -> None:
    for role in (Role.main_liaison_officer, Role.minister):
        assert _principal(role, sector_ids=frozenset({"S1"})).sees_request(**_DISTRIBUTED)
        assert not _principal(role, sector_ids=frozenset({"S2"})).sees_request(**_HELD)
        assert not _principal(role, sector_ids=frozenset({"S1"})).sees_request(**_IN_TRIAGE)
    assert _principal(Role.entity_head, entity_ids=frozenset({"E1"})).sees_request(**_HELD)
    assert not _principal(Role.entity_head, entity_ids=frozenset({"E2"})).sees_request(**_HELD)


def test_citizens_and_unscoped_staff_see_no_request_as_staff() -> None:
    for role in (Role.citizen, Role.call_center_agent, Role.complaint_box_clerk,
                 Role.integrity_commission):
        assert not _principal(role, entity_ids=frozenset({"E1"}) if role is Role.citizen
                              else frozenset()).sees_request(**_HELD)


def test_require_role_forbids_other_roles() -> None:
    require_role(_principal(Role.cmu_admin), Role.cmu_admin, Role.cmu_staff)
    with pytest.raises(Forbidden):
        require_role(_principal(Role.citizen), Role.cmu_admin, Role.cmu_staff)


# --- Authorization header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [(None, None), ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer x", "x"), ("BEARER  x ", "x")],
)
def test_bearer_token_is_taken_from_the_authorization_header(
    header: str | None, token: str | None
) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b",
                                    "Token x", "abc.def.ghi"])
def test_malformed_authorization_header_is_refused(header: str) -> None:
    with pytest.raises(Unauthorized):
        bearer_token(header)


# --- loading keys --------------------------------------------------------------------------------


def _settings(environment: Environment, **fields: Any) -> BaseServiceSettings:
    # model_construct: production settings without a database or broker, for this module only.
    files: dict[str, Any] = {"jwt_public_keys_file": None, "jwt_signing_key_file": None}
    return BaseServiceSettings.model_construct(environment=environment, **{**files, **fields})


def test_development_keys_are_generated_once_and_reused(
    tmp_path: Path, clock: SimulatedClock
) -> None:
    keys, signing = load_keys(_settings(Environment.development), dev_dir=tmp_path)
    assert signing is not None
    assert signing.kid.startswith("dev-")
    assert keys.kids == {signing.kid}
    assert sorted(p.name for p in (tmp_path / "es256").iterdir()) == [
        "jwks.json", "signing.kid", "signing.pem"]

    again_keys, again_signing = load_keys(_settings(Environment.test), dev_dir=tmp_path)
    assert again_signing is not None
    assert again_signing.kid == signing.kid
    token = TokenIssuer(signing, issuer=ISSUER, audience=AUDIENCE, clock=clock).issue(
        "c-1", Role.citizen)
    verifier = TokenVerifier(again_keys, issuer=ISSUER, audience=AUDIENCE, clock=clock)
    assert verifier.verify(token).subject == "c-1"


def test_processes_starting_together_agree_on_the_development_keys(tmp_path: Path) -> None:
    settings = _settings(Environment.development)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: load_keys(settings, dev_dir=tmp_path), range(16)))
    kids = {signing.kid for _, signing in results if signing is not None}
    assert len(kids) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["es256"]  # no staging left behind


def test_production_without_key_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="production"):
        load_keys(_settings(Environment.production), dev_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_production_refuses_the_development_key_files(tmp_path: Path) -> None:
    load_keys(_settings(Environment.development), dev_dir=tmp_path)
    settings = _settings(
        Environment.production,
        jwt_public_keys_file=tmp_path / "es256" / "jwks.json",
        jwt_signing_key_file=tmp_path / "es256" / "signing.pem",
    )
    with pytest.raises(RuntimeError, match="development"):
        load_keys(settings, dev_dir=tmp_path)


def test_production_refuses_development_keys_copied_elsewhere(tmp_path: Path) -> None:
    _, signing = load_keys(_settings(Environment.development), dev_dir=tmp_path / "dev")
    assert signing is not None
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    (elsewhere / "jwks.json").write_text(json.dumps(KeySet.of(signing).to_jwks()))
    settings = _settings(Environment.production, jwt_public_keys_file=elsewhere / "jwks.json")
    with pytest.raises(RuntimeError, match="development"):
        load_keys(settings)


def test_configured_key_files_are_loaded(tmp_path: Path, key: SigningKey) -> None:
    (tmp_path / "jwks.json").write_text(
        json.dumps(KeySet.of(key, generate_signing_key("k0")).to_jwks()))
    key.save(tmp_path / "signing.pem")
    settings = _settings(
        Environment.production,
        jwt_public_keys_file=tmp_path / "jwks.json",
        jwt_signing_key_file=tmp_path / "signing.pem",
    )
    keys, signing = load_keys(settings)
    assert keys.kids == {"k0", "k1"}
    assert signing is not None
    assert signing.kid == "k1"

    verifier_only = _settings(Environment.production, jwt_public_keys_file=tmp_path / "jwks.json")
    assert load_keys(verifier_only)[1] is None


def test_a_signing_key_missing_from_the_public_key_set_is_refused(
    tmp_path: Path, key: SigningKey
) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps(KeySet.of(generate_signing_key("k0")).to_jwks()))
    key.save(tmp_path / "signing.pem")
    settings = _settings(
        Environment.test,
        jwt_public_keys_file=tmp_path / "jwks.json",
        jwt_signing_key_file=tmp_path / "signing.pem",
    )
    with pytest.raises(RuntimeError, match="not in the public key set"):
        load_keys(settings)


def test_an_empty_public_key_set_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text('{"keys": []}')
    settings = _settings(Environment.test, jwt_public_keys_file=tmp_path / "jwks.json")
    with pytest.raises(RuntimeError, match="empty"):
        load_keys(settings)


def test_dev_key_directory_is_private(tmp_path: Path) -> None:
    load_keys(_settings(Environment.development), dev_dir=tmp_path)
    assert (os.stat(tmp_path / "es256").st_mode & 0o077) == 0
    assert (os.stat(tmp_path / "es256" / "signing.pem").st_mode & 0o077) == 0
