"""The integrity commission's offline tool: its key pair, and opening what the inbox holds.

    python -m services.integrity.commission_cli generate --key-id ID --out FILE
    python -m services.integrity.commission_cli public-key FILE
    python -m services.integrity.commission_cli open --key FILE [--key FILE …] --out DIR ENVELOPE…
    python -m services.integrity.commission_cli verify-receipt --key FILE ENVELOPE RECEIPT

`generate` makes an X25519 key pair on this machine and writes it to FILE with the private key
encrypted under a passphrase (argon2id, then XSalsa20-Poly1305), and prints what to register
through `POST /api/v1/integrity/keys`: the key id, the public key and its fingerprint.
`open` opens envelopes downloaded from the inbox (`…/envelope`, and `…/identity-envelope` only
when the commission decides to learn who reported) into DIR; of a report that its key does not
open (damaged or badly sealed) it says how to declare it "cannot be opened" in the inbox, which
asks the reporter for a new report. `verify-receipt` tells whether a receipt someone shows was
issued for a given report.

Run it on the commission's own offline machine. It belongs to no service: nothing on a server
imports it (outside production, the development launcher makes its key with it:
`services.integrity.development_key`), and the key file it writes must never be copied to a
server (the integrity tests scan every service's settings and environment for it).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nacl import pwhash, secret
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from nacl.utils import random as random_bytes

from shared.sealing import (
    CommissionKeyPair,
    EnvelopeKind,
    EnvelopeRefused,
    display_fingerprint,
    fingerprint,
    inspect,
    open_identity,
    open_report,
    receipt_digest,
    strict_b64decode,
)

KEY_FILE_FORMAT: Final = "bekhedmetkom-commission-private-key/1"
"""The first field of every key file the tool writes; what the server-side scans look for."""
MIN_PASSPHRASE_LENGTH: Final = 12
STRENGTHS: Final = {
    # libsodium's argon2id presets; `sensitive` (1 GiB, ~3 s) suits a key opened offline.
    "interactive": (pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (pwhash.argon2id.OPSLIMIT_MODERATE, pwhash.argon2id.MEMLIMIT_MODERATE),
    "sensitive": (pwhash.argon2id.OPSLIMIT_SENSITIVE, pwhash.argon2id.MEMLIMIT_SENSITIVE),
}
_WHY: Final = {
    "cannot-open": "it does not open with the key it names: it was damaged or badly sealed",
    "unknown-key": "it is sealed to a key id none of the given key files holds",
    "damaged": "it was damaged after it was sealed (its digest does not match it)",
    "sealed-key": "its sealed data key is unusable: it was badly sealed",
    "header": "its header is malformed",
    "truncated": "it is truncated",
    "too-large": "it is longer than any envelope can be",
    "not-an-envelope": "it is not a sealed envelope",
    "content": "it opened, but what is inside is malformed",
}


class ToolError(Exception):
    """A message for the person at the keyboard; the tool exits with status 1."""


# --- the key file -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFile:
    key_id: str
    public_key: bytes
    salt: bytes
    opslimit: int
    memlimit: int
    sealed_private_key: bytes

    @classmethod
    def protect(cls, pair: CommissionKeyPair, passphrase: str, *, strength: str) -> KeyFile:
        opslimit, memlimit = STRENGTHS[strength]
        salt = random_bytes(pwhash.argon2id.SALTBYTES)
        box = secret.SecretBox(_derive(passphrase, salt, opslimit, memlimit))
        return cls(
            key_id=pair.key_id,
            public_key=pair.public.key,
            salt=salt,
            opslimit=opslimit,
            memlimit=memlimit,
            sealed_private_key=bytes(box.encrypt(bytes(pair.private_key))),
        )

    def unlock(self, passphrase: str) -> PrivateKey:
        box = secret.SecretBox(_derive(passphrase, self.salt, self.opslimit, self.memlimit))
        try:
            private_key = PrivateKey(box.decrypt(self.sealed_private_key))
        except CryptoError:
            raise ToolError(f"wrong passphrase for key {self.key_id}") from None
        if bytes(private_key.public_key) != self.public_key:
            raise ToolError(f"the key file of {self.key_id} is damaged")
        return private_key

    def registration(self) -> dict[str, str]:
        """The body of `POST /api/v1/integrity/keys` that registers the public half."""
        return {"key_id": self.key_id,
                "public_key": base64.b64encode(self.public_key).decode(),
                "fingerprint": fingerprint(self.public_key)}

    def to_json(self) -> str:
        b64 = base64.b64encode
        return json.dumps(
            {
                "format": KEY_FILE_FORMAT,
                "key_id": self.key_id,
                "public_key": b64(self.public_key).decode(),
                "fingerprint": fingerprint(self.public_key),
                "kdf": {"algorithm": "argon2id", "salt": b64(self.salt).decode(),
                        "opslimit": self.opslimit, "memlimit": self.memlimit},
                "sealed_private_key": b64(self.sealed_private_key).decode(),
            },
            indent=2,
        ) + "\n"

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != KEY_FILE_FORMAT or data["kdf"]["algorithm"] != "argon2id":
                raise ValueError("not a key file of this tool")
            return cls(
                key_id=str(data["key_id"]),
                public_key=strict_b64decode(data["public_key"]),
                salt=strict_b64decode(data["kdf"]["salt"]),
                opslimit=int(data["kdf"]["opslimit"]),
                memlimit=int(data["kdf"]["memlimit"]),
                sealed_private_key=strict_b64decode(data["sealed_private_key"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ToolError(f"{path}: not a usable key file ({exc})") from None

    def write(self, path: Path) -> None:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ToolError(f"{path} exists: the tool never overwrites a key") from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(self.to_json())


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    key: bytes = pwhash.argon2id.kdf(
        secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=opslimit, memlimit=memlimit,
    )
    return key


# --- passphrases --------------------------------------------------------------------------------


def _passphrase(source: Path | None, *, confirm: bool) -> str:
    if source is not None:
        passphrase = source.read_text(encoding="utf-8").rstrip("\n")
    else:
        passphrase = getpass.getpass("Passphrase: ")
        if confirm and getpass.getpass("Passphrase again: ") != passphrase:
            raise ToolError("the passphrases differ")
    if confirm and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ToolError(f"a passphrase has at least {MIN_PASSPHRASE_LENGTH} characters")
    return passphrase


def _unlock_all(paths: Sequence[Path], passphrase_file: Path | None) -> dict[str, PrivateKey]:
    keys: dict[str, PrivateKey] = {}
    for path in paths:
        key_file = KeyFile.read(path)
        if passphrase_file is None:
            print(f"Key {key_file.key_id}", file=sys.stderr)
        keys[key_file.key_id] = key_file.unlock(_passphrase(passphrase_file, confirm=False))
    return keys


# --- commands -----------------------------------------------------------------------------------


def _registration(key_file: KeyFile) -> str:
    body = key_file.registration()
    return (
        f"key id:      {key_file.key_id}\n"
        f"public key:  {body['public_key']}\n"
        f"fingerprint: {display_fingerprint(body['fingerprint'])}\n\n"
        "Register it (POST /api/v1/integrity/keys, as the commission) with:\n"
        f"{json.dumps(body)}\n"
    )


def generate(args: argparse.Namespace) -> None:
    pair = CommissionKeyPair.generate(args.key_id)  # validates the key id
    passphrase = _passphrase(args.passphrase_file, confirm=True)
    key_file = KeyFile.protect(pair, passphrase, strength=args.strength)
    key_file.write(args.out)
    print(f"Wrote {args.out}. Keep it offline; back it up: without it, reports sealed to this "
          "key can never be read.\n")
    print(_registration(key_file), end="")


def public_key(args: argparse.Namespace) -> None:
    print(_registration(KeyFile.read(args.key_file)), end="")


def _safe_name(index: int, name: str) -> str:
    # A reporter chose the name: keep it readable, never let it leave the folder.
    base = re.sub(r"[^\w.\- ]", "_", Path(name.replace("\\", "/")).name).strip(". ") or "file"
    return f"{index:02d}-{base[:100]}"


def _open_one(path: Path, keys: dict[str, PrivateKey], out: Path) -> str:
    envelope = path.read_bytes()
    kind = inspect(envelope).header.kind
    if kind is EnvelopeKind.identity:
        opened, identity = open_identity(envelope, keys)
        folder = out / str(opened.header.envelope_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "identity.json").write_text(
            identity.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8"
        )
        return f"{path.name}: the reporter's identity → {folder / 'identity.json'}"
    opened, content = open_report(envelope, keys)
    folder = out / str(opened.header.envelope_id)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"Report {opened.header.envelope_id} of {opened.header.day.isoformat()}"]
    if content.subject:
        lines.append(f"Subject: {content.subject}")
    lines += ["", content.text, ""]
    (folder / "report.txt").write_text("\n".join(lines), encoding="utf-8")
    for index, attachment in enumerate(content.attachments, start=1):
        (folder / _safe_name(index, attachment.name)).write_bytes(attachment.data)
    return (f"{path.name}: report of {opened.header.day.isoformat()}, "
            f"{len(content.attachments)} attachment(s) → {folder}")


def _cannot_be_opened(path: Path, reason: str) -> str | None:
    """What to do about a report that the right key does not open: declare it, so that the
    reporter is asked for a new report. Nothing when the fault may be ours (another key, a
    file damaged since it was filed: integrity checked everything else before filing it)."""
    if reason not in ("cannot-open", "content"):
        return None
    header = inspect(path.read_bytes()).header
    if header.kind is not EnvelopeKind.report:
        return None
    return (
        f"  Report {header.envelope_id} cannot be opened. If this file is the envelope as "
        "downloaded (download it again to be sure), declare it in the inbox:\n"
        f"  POST /api/v1/integrity/inbox/{header.envelope_id}/cannot-be-opened\n"
        "  The reporter's receipt then asks them to send it again, as a new report."
    )


def open_envelopes(args: argparse.Namespace) -> None:
    keys = _unlock_all(args.key, args.passphrase_file)
    failures = 0
    for path in args.envelopes:
        try:
            print(_open_one(path, keys, args.out))
        except EnvelopeRefused as refused:
            failures += 1
            print(f"{path.name}: refused: {_WHY.get(refused.reason, refused.reason)}",
                  file=sys.stderr)
            if advice := _cannot_be_opened(path, refused.reason):
                print(advice, file=sys.stderr)
        except OSError as exc:
            failures += 1
            print(f"{path.name}: {exc.strerror}", file=sys.stderr)
    if failures:
        raise ToolError(f"{failures} of {len(args.envelopes)} envelope(s) not opened")


def verify_receipt(args: argparse.Namespace) -> None:
    keys = _unlock_all(args.key, args.passphrase_file)
    try:
        digest = receipt_digest(args.receipt)
    except ValueError:
        raise ToolError("that is not a receipt (four groups of five letters and digits)") from None
    try:
        opened, content = open_report(args.envelope.read_bytes(), keys)
    except EnvelopeRefused as refused:
        raise ToolError(f"refused: {_WHY.get(refused.reason, refused.reason)}") from None
    if content.receipt_digest is None:
        raise ToolError("this report carries no receipt (it was sealed on the reporter's device)")
    if content.receipt_digest != digest:
        raise ToolError(f"the receipt was NOT issued for report {opened.header.envelope_id}")
    print(f"The receipt was issued for report {opened.header.envelope_id}.")


def parser() -> argparse.ArgumentParser:
    tool = argparse.ArgumentParser(
        prog="python -m services.integrity.commission_cli",
        description="The integrity commission's offline tool for sealed corruption reports.",
    )
    commands = tool.add_subparsers(dest="command", required=True)
    passphrase_help = "read the passphrase from this file instead of asking (automation only)"

    make = commands.add_parser("generate", help="make a key pair, protected by a passphrase")
    make.add_argument("--key-id", required=True, help="e.g. commission-2026-01")
    make.add_argument("--out", type=Path, required=True, help="the key file to write")
    make.add_argument("--strength", choices=sorted(STRENGTHS), default="sensitive",
                      help="argon2id cost of the passphrase (default: sensitive, 1 GiB)")
    make.add_argument("--passphrase-file", type=Path, help=passphrase_help)
    make.set_defaults(run=generate)

    show = commands.add_parser("public-key", help="print a key file's public key to register")
    show.add_argument("key_file", type=Path)
    show.set_defaults(run=public_key)

    opener = commands.add_parser("open", help="open envelopes downloaded from the inbox")
    opener.add_argument("--key", type=Path, action="append", required=True,
                        help="a key file (repeat for older keys after a rotation)")
    opener.add_argument("--out", type=Path, required=True, help="folder for what they hold")
    opener.add_argument("--passphrase-file", type=Path, help=passphrase_help)
    opener.add_argument("envelopes", type=Path, nargs="+")
    opener.set_defaults(run=open_envelopes)

    check = commands.add_parser("verify-receipt",
                                help="tell whether a receipt was issued for a report")
    check.add_argument("--key", type=Path, action="append", required=True)
    check.add_argument("--passphrase-file", type=Path, help=passphrase_help)
    check.add_argument("envelope", type=Path)
    check.add_argument("receipt")
    check.set_defaults(run=verify_receipt)
    return tool


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # e.g. a key id the format does not allow
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
