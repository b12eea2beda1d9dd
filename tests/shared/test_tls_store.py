"""The rate-limit store over TLS, as the manifests configure it (`rediss://…?ssl_ca_certs=…`): a
Redis of the test's own that serves TLS only, with a certificate from a CA made here; the
kernel's counters reach it and trust that CA alone, and a client that does not trust it is
refused."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.ratelimit import RateLimits, parse_many
from tests.ports import free_port, listening


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """(port, the CA's certificate file) of a TLS-only Redis."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: the machine's redis package provides it")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _certificate("test CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate("127.0.0.1", key, ca_name, ca_key, ca=False)
    encoding = serialization.Encoding.PEM
    ca_file = _pem(tmp_path / "ca.crt", ca.public_bytes(encoding))
    _pem(tmp_path / "tls.crt", certificate.public_bytes(encoding))
    _pem(tmp_path / "tls.key", key.private_bytes(
        encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(tmp_path / "tls.crt"), "--tls-key-file", str(tmp_path / "tls.key"),
         "--tls-ca-cert-file", str(ca_file), "--tls-auth-clients", "no", "--save", "",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            assert process.poll() is None, "redis-server would not start with TLS"
            assert time.monotonic() < deadline, "redis-server never listened"
            time.sleep(0.05)
        yield port, ca_file
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_the_counters_reach_a_tls_only_store_trusting_the_platforms_ca(
    tls_redis: tuple[int, Path],
) -> None:
    port, ca_file = tls_redis
    budget = parse_many("2/minute")[0]
    who = uuid.uuid4().hex
    limits = RateLimits(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca_file}")
    try:
        assert [await limits.hit(budget, "t", who) for _ in range(3)] == [True, True, False]
    finally:
        await limits.aclose()
    # Plain text, or TLS without the CA: no answer from it.
    for url in (f"redis://127.0.0.1:{port}/0", f"rediss://127.0.0.1:{port}/0"):
        stranger = RateLimits(url)
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                await stranger.hit(budget, "t", who)
        finally:
            await stranger.aclose()
