"""The development commission key: outside production, reports are taken from the first start.

Intake refuses every report (503) until the commission has registered a public key, and the
commission makes its key pair offline. So that `make run` and `make up` take reports at once,
they play the commission when they start and integrity has no key: a key pair made in the
commission tool's own key-file format under `var/dev-keys/commission/` (`commission.key`, and
beside it the `passphrase` that protects it), its public half registered through integrity's
API, as the commission would. What the inbox holds then opens with the tool (`commission_cli
open --key …/commission.key --passphrase-file …/passphrase`; the README shows the whole way).
Its key id starts with `dev-`, and integrity refuses such a key in production.

What it must never do: run in production; register a key when integrity has one (a restart
must never put the development key before a key the commission registered); be imported by a
service (it makes a private key, and a service holds public keys only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import uuid
from pathlib import Path
from typing import Final

import httpx

from services.integrity.commission_cli import KeyFile
from shared.auth import DEV_KEYS_DIR, DEV_KID_PREFIX, TokenIssuer, generate_once, load_keys
from shared.clock import Clock
from shared.events.vocabulary import Role
from shared.sealing import CommissionKeyPair
from shared.settings import PROJECT_ROOT, PlatformSettings

log = logging.getLogger(__name__)

DEVELOPMENT_KEY_DIR: Final = DEV_KEYS_DIR / "commission"
KEY_FILE: Final = "commission.key"
PASSPHRASE_FILE: Final = "passphrase"
KEYS_PATH: Final = "/api/v1/integrity/keys"


def development_key(root: Path = DEVELOPMENT_KEY_DIR) -> KeyFile:
    """The development key file under `root`, made once."""

    def build(staging: Path) -> None:
        passphrase = secrets.token_urlsafe(24)
        pair = CommissionKeyPair.generate(f"{DEV_KID_PREFIX}commission-{secrets.token_hex(6)}")
        # `interactive`: the passphrase sits beside the key, a costly derivation buys nothing.
        KeyFile.protect(pair, passphrase, strength="interactive").write(staging / KEY_FILE)
        descriptor = os.open(staging / PASSPHRASE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(passphrase + "\n")

    generate_once(root, build)
    return KeyFile.read(root / KEY_FILE)


async def register_development_key(
    integrity: httpx.AsyncClient,
    *,
    settings: PlatformSettings,
    clock: Clock,
    root: Path = DEVELOPMENT_KEY_DIR,
) -> str | None:
    """Register the development key with `integrity` (a client of its HTTP API) unless it has a
    key already; the key id when registered now."""
    if settings.production:
        raise RuntimeError("the development commission key is refused in production")
    _keys, signing = load_keys(settings)
    if signing is None:
        log.warning("no signing key to register the development commission key with")
        return None
    issuer = TokenIssuer(signing, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         clock=clock)
    commission = {
        "Authorization": f"Bearer {issuer.issue('development', Role.integrity_commission)}"
    }
    registered = await integrity.get(KEYS_PATH, headers=commission)
    registered.raise_for_status()
    if registered.json():
        return None
    key_file = development_key(root)
    response = await integrity.post(
        KEYS_PATH, json=key_file.registration(),
        headers={**commission, "Idempotency-Key": str(uuid.uuid4())},
    )
    if response.status_code == 409:  # another start registered it meanwhile
        return None
    response.raise_for_status()
    log.info("development commission key registered", extra={"key_id": key_file.key_id})
    return key_file.key_id


def registered(key_id: str) -> str:
    """What the launcher tells the person who started it."""
    return (f"Reports are sealed to the development commission key {key_id} in "
            f"{DEVELOPMENT_KEY_DIR.relative_to(PROJECT_ROOT)}/ (the README shows how to open "
            "one).")


async def register_when_ready(
    integrity_url: str, *, settings: PlatformSettings, clock: Clock, attempts: int = 240
) -> str | None:
    """`register_development_key` with integrity in a process of its own, once it is ready."""
    async with httpx.AsyncClient(base_url=integrity_url, timeout=5) as integrity:
        for _ in range(attempts):
            with contextlib.suppress(httpx.HTTPError):
                if (await integrity.get("/readyz")).status_code == 200:
                    return await register_development_key(integrity, settings=settings,
                                                          clock=clock)
            await asyncio.sleep(0.25)
    log.warning("integrity never became ready: no development commission key registered")
    return None
