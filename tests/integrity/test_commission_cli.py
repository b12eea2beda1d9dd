"""The commission's offline tool, run as the commission runs it: a command line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from services.integrity.commission_cli import KEY_FILE_FORMAT, KeyFile
from shared.sealing import (
    Attachment,
    CommissionKeyPair,
    CommissionPublicKey,
    EnvelopeKind,
    ReportContent,
    ReporterIdentity,
    new_receipt,
    receipt_digest,
    seal,
    seal_report,
)

PASSPHRASE = "correct horse battery staple"


@dataclass
class Ran:
    code: int
    out: str
    err: str


def tool(*args: str | Path) -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "services.integrity.commission_cli", *map(str, args)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text(PASSPHRASE + "\n")
    return path


@pytest.fixture
def key_file(tmp_path: Path, passphrase_file: Path) -> Path:
    path = tmp_path / "commission.key"
    ran = tool("generate", "--key-id", "commission-2026-01", "--out", path,
               "--strength", "interactive", "--passphrase-file", passphrase_file)
    assert ran.code == 0, ran.err
    return path


def public_of(key_file: Path) -> CommissionPublicKey:
    data = json.loads(key_file.read_text())
    return CommissionPublicKey.from_base64(data["key_id"], data["public_key"])


def test_generate_writes_a_passphrase_protected_key_and_prints_what_to_register(
    tmp_path: Path, passphrase_file: Path
) -> None:
    path = tmp_path / "commission.key"
    ran = tool("generate", "--key-id", "commission-2026-01", "--out", path,
               "--strength", "interactive", "--passphrase-file", passphrase_file)
    assert ran.code == 0, ran.err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["format"] == KEY_FILE_FORMAT
    assert stored["kdf"]["algorithm"] == "argon2id"
    public = public_of(path)
    registration = json.loads(ran.out.strip().splitlines()[-1])
    assert registration == {"key_id": "commission-2026-01", "public_key": public.encoded,
                            "fingerprint": public.fingerprint}
    private = KeyFile.read(path).unlock(PASSPHRASE)
    assert bytes(private.public_key) == public.key
    assert bytes(private).hex() not in path.read_text()  # only ever stored encrypted
    shown = tool("public-key", path)
    assert shown.code == 0
    assert public.fingerprint[:4] in shown.out


def test_generate_never_overwrites_a_key_and_refuses_a_short_passphrase(
    key_file: Path, tmp_path: Path, passphrase_file: Path
) -> None:
    before = key_file.read_text()
    again = tool("generate", "--key-id", "other", "--out", key_file, "--strength",
                 "interactive", "--passphrase-file", passphrase_file)
    assert again.code == 1
    assert "never overwrites" in again.err
    assert key_file.read_text() == before
    short = tmp_path / "short"
    short.write_text("too short")
    refused = tool("generate", "--key-id", "k", "--out", tmp_path / "k.key",
                   "--strength", "interactive", "--passphrase-file", short)
    assert refused.code == 1
    assert not (tmp_path / "k.key").exists()


def test_open_recovers_the_report_its_attachments_and_on_request_the_identity(
    key_file: Path, tmp_path: Path, passphrase_file: Path
) -> None:
    content = ReportContent(
        text="طُلبت رشوة لتسريع المعاملة", subject="رشوة",
        attachments=(Attachment("../../etc/passwd", "text/plain", b"evidence one"),
                     Attachment("photo.jpg", "image/jpeg", b"\xff\xd8 photo")),
    )
    report = seal_report(content, ReporterIdentity(name="Reporter", national_number="9990001111"),
                         to=public_of(key_file), day=date(2026, 3, 5))
    assert report.identity_envelope is not None
    envelope = tmp_path / "report.bkhe"
    envelope.write_bytes(report.envelope)
    identity = tmp_path / "identity.bkhe"
    identity.write_bytes(report.identity_envelope)
    out = tmp_path / "opened"
    ran = tool("open", "--key", key_file, "--out", out, "--passphrase-file", passphrase_file,
               envelope)
    assert ran.code == 0, ran.err
    folder = out / str(report.envelope_id)
    text = (folder / "report.txt").read_text(encoding="utf-8")
    assert "طُلبت رشوة لتسريع المعاملة" in text
    assert "2026-03-05" in text
    assert sorted(p.name for p in folder.iterdir()) == ["01-passwd", "02-photo.jpg",
                                                        "report.txt"]
    assert (folder / "01-passwd").read_bytes() == b"evidence one"
    assert not (folder / "identity.json").exists()  # the identity only when asked for

    ran = tool("open", "--key", key_file, "--out", out, "--passphrase-file", passphrase_file,
               identity)
    assert ran.code == 0, ran.err
    assert json.loads((folder / "identity.json").read_text())["national_number"] == "9990001111"


def test_open_refuses_a_tampered_envelope_or_another_key_and_a_wrong_passphrase(
    key_file: Path, tmp_path: Path, passphrase_file: Path
) -> None:
    public = public_of(key_file)
    good = seal_report(ReportContent(text="t"), None, to=public, day=date(2026, 3, 5))
    tampered = bytearray(good.envelope)
    tampered[-1] ^= 1
    other = seal_report(ReportContent(text="t"), None,
                        to=CommissionKeyPair.generate(public.key_id).public, day=date(2026, 3, 5))
    paths = []
    for name, data in (("tampered", bytes(tampered)), ("other", other.envelope),
                       ("truncated", good.envelope[:100])):
        path = tmp_path / f"{name}.bkhe"
        path.write_bytes(data)
        paths.append(path)
    ran = tool("open", "--key", key_file, "--out", tmp_path / "out", "--passphrase-file",
               passphrase_file, *paths)
    assert ran.code == 1
    assert ran.err.count("refused") == 3
    assert "truncated" in ran.err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())

    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all")
    denied = tool("open", "--key", key_file, "--out", tmp_path / "out", "--passphrase-file",
                  wrong, paths[0])
    assert denied.code == 1
    assert "wrong passphrase" in denied.err


def test_open_tells_the_commission_how_to_declare_a_report_that_cannot_be_opened(
    key_file: Path, tmp_path: Path, passphrase_file: Path
) -> None:
    envelope_id = uuid.uuid4()
    # Sealed as an older client does (version 1: no digest), damaged on its way: the server
    # could not tell, and filed it.
    damaged = bytearray(seal(ReportContent(text="t").to_plaintext(), to=public_of(key_file),
                             kind=EnvelopeKind.report, envelope_id=envelope_id,
                             day=date(2026, 3, 5), version=1))
    damaged[-100] ^= 0x01
    envelope = tmp_path / f"{envelope_id}.report.bkhe"
    envelope.write_bytes(bytes(damaged))
    ran = tool("open", "--key", key_file, "--out", tmp_path / "out", "--passphrase-file",
               passphrase_file, envelope)
    assert ran.code == 1
    assert "it does not open" in ran.err
    assert f"POST /api/v1/integrity/inbox/{envelope_id}/cannot-be-opened" in ran.err
    assert "new report" in ran.err

    wrong_key = CommissionKeyPair.generate("another-key")
    other = seal_report(ReportContent(text="t"), None, to=wrong_key.public, day=date(2026, 3, 5))
    elsewhere = tmp_path / "other.bkhe"
    elsewhere.write_bytes(other.envelope)
    unknown = tool("open", "--key", key_file, "--out", tmp_path / "out", "--passphrase-file",
                   passphrase_file, elsewhere)
    assert unknown.code == 1
    assert "cannot-be-opened" not in unknown.err  # another key is no reason to ask again


def test_verify_receipt_tells_whether_a_receipt_was_issued_for_a_report(
    key_file: Path, tmp_path: Path, passphrase_file: Path
) -> None:
    receipt = new_receipt()
    report = seal_report(ReportContent(text="t", receipt_digest=receipt_digest(receipt)), None,
                         to=public_of(key_file), day=date(2026, 3, 5))
    envelope = tmp_path / "report.bkhe"
    envelope.write_bytes(report.envelope)
    common = ("verify-receipt", "--key", key_file, "--passphrase-file", passphrase_file,
              envelope)
    matches = tool(*common, receipt.lower())
    assert matches.code == 0, matches.err
    assert str(report.envelope_id) in matches.out
    other = tool(*common, new_receipt())
    assert other.code == 1
    assert "NOT issued" in other.err
