"""One-tap links: what they allow, for whom and until when, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import SimulatedClock
from shared.links import DEVELOPMENT_SECRET, InvalidLink, LinkSigner, secret_problem

SECRET = "s" * 40


def test_a_signed_link_verifies_into_its_claims() -> None:
    signer = LinkSigner(SECRET, clock=SimulatedClock())
    token = signer.sign("rate", {"ref": "BKH-1"}, lifetime=timedelta(days=3))
    assert signer.verify("rate", token)["ref"] == "BKH-1"


def test_a_link_for_another_purpose_is_refused() -> None:
    signer = LinkSigner(SECRET, clock=SimulatedClock())
    token = signer.sign("rate", {"ref": "BKH-1"}, lifetime=timedelta(days=3))
    with pytest.raises(InvalidLink):
        signer.verify("withdraw", token)


def test_an_expired_link_is_refused() -> None:
    clock = SimulatedClock()
    signer = LinkSigner(SECRET, clock=clock)
    token = signer.sign("rate", {"ref": "BKH-1"}, lifetime=timedelta(days=3))
    clock.advance(timedelta(days=3, seconds=1))
    with pytest.raises(InvalidLink, match="expired"):
        signer.verify("rate", token)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],  # another MAC
    lambda t: "eyJyZWYiOiJCS0gtMiJ9" + t[t.index("."):],        # other claims, same MAC
    lambda t: t.replace(".", ""),
    lambda t: t + ".x",
    lambda t: "!!!." + t.split(".")[1],
])
def test_a_tampered_link_is_refused(mangle: object) -> None:
    signer = LinkSigner(SECRET, clock=SimulatedClock())
    token = signer.sign("rate", {"ref": "BKH-1"}, lifetime=timedelta(days=3))
    with pytest.raises(InvalidLink):
        signer.verify("rate", mangle(token))  # type: ignore[operator]


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = LinkSigner("t" * 40, clock=SimulatedClock()).sign(
        "rate", {"ref": "BKH-1"}, lifetime=timedelta(days=1)
    )
    with pytest.raises(InvalidLink):
        LinkSigner(SECRET, clock=SimulatedClock()).verify("rate", token)


def test_production_refuses_the_development_secret_and_short_ones() -> None:
    assert secret_problem(DEVELOPMENT_SECRET, production=True)
    assert secret_problem("short", production=True)
    assert secret_problem(SECRET, production=True) is None
    assert secret_problem(DEVELOPMENT_SECRET, production=False) is None
