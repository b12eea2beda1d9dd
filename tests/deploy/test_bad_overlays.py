"""An overlay gone wrong fails with a clear message: a wrong image tag, a missing secret, a
pod that slipped out of "restricted", a Service left without a network policy. Each case is a
small overlay written on top of prod, rendered by the same kubectl."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy.manifests import OVERLAYS, RenderError, render, violations

PROD = OVERLAYS["prod"]


def overlay_on_prod(tmp_path: Path, body: str) -> Path:
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {os.path.relpath(PROD, tmp_path)}\n{body}"  # kustomize: relative only
    )
    return tmp_path


def test_the_latest_tag_is_refused(kubectl_binary: str, tmp_path: Path) -> None:
    resources = render(overlay_on_prod(tmp_path, "images:\n  - name: registry.gov.jo/bekhedmetkom/"
                                       "bekhedmetkom\n    newTag: latest\n"))
    found = violations(resources)
    assert any("is not pinned" in message and "intake-api" in message for message in found)


def test_a_tag_that_is_not_a_release_is_refused(kubectl_binary: str, tmp_path: Path) -> None:
    resources = render(overlay_on_prod(tmp_path, "images:\n  - name: registry.gov.jo/bekhedmetkom/"
                                       "bekhedmetkom\n    newTag: my-branch\n"))
    assert any("must be a release" in message for message in violations(resources))


def test_two_releases_in_one_overlay_are_refused(kubectl_binary: str, tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: sla-worker}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/image
        value: registry.gov.jo/bekhedmetkom/bekhedmetkom:0.0.9
"""
    assert any("different releases" in m for m in violations(render(overlay_on_prod(tmp_path,
                                                                                    body))))


def test_a_secret_nothing_provides_is_named(kubectl_binary: str, tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: notify-api}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: BKH_SMTP_PASSWORD
          valueFrom: {secretKeyRef: {name: smtp-typo, key: password}}
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert any("Secret 'smtp-typo', which nothing in this overlay provides" in m for m in found)


def test_a_key_the_secret_does_not_have_is_named(kubectl_binary: str, tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: notify-api}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: BKH_SMTP_PASSWORD
          valueFrom: {secretKeyRef: {name: bekhedmetkom-notify, key: smtp-pasword}}
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert any("key 'smtp-pasword' of Secret 'bekhedmetkom-notify'" in m for m in found)


def test_a_secret_written_into_the_manifests_is_refused(kubectl_binary: str,
                                                         tmp_path: Path) -> None:
    body = """secretGenerator:
  - name: leaked
    literals: [password=hunter2]
configMapGenerator:
  - name: notify-config
    behavior: merge
    literals: [BKH_SMTP_PASSWORD=hunter2]
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert any(m.startswith("Secret/leaked") for m in found)
    assert any("BKH_SMTP_PASSWORD looks like a secret" in m for m in found)


def test_a_privileged_root_pod_is_refused(kubectl_binary: str, tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: analytics-api}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/securityContext
        value: {privileged: true, runAsUser: 0}
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert any("analytics-api container app: privileged" in m for m in found)
    assert any("analytics-api container app: runAsUser must not be 0" in m for m in found)
    assert any("analytics-api container app: readOnlyRootFilesystem" in m for m in found)


def test_a_service_without_a_network_policy_is_named(kubectl_binary: str,
                                                      tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: NetworkPolicy, name: service-apis}
    patch: |-
      - op: replace
        path: /spec/podSelector/matchLabels/app.kubernetes.io~1component
        value: nothing
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert any("Service/intake-api: no NetworkPolicy admits traffic" in m for m in found)


def test_a_probe_that_goes_missing_is_named(kubectl_binary: str, tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: routing-worker}
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/readinessProbe
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert "Deployment/routing-worker container app: no readinessProbe" in found


def test_plain_amqp_and_a_password_on_a_command_line_are_named(kubectl_binary: str,
                                                                tmp_path: Path) -> None:
    body = """patches:
  - target: {kind: Deployment, name: sla-worker}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/env/5/value
        value: amqp://$(AMQP_USERNAME):$(AMQP_PASSWORD)@bekhedmetkom-mq:5672/bekhedmetkom
  - target: {kind: Deployment, name: bekhedmetkom-redis}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --requirepass
"""
    found = violations(render(overlay_on_prod(tmp_path, body)))
    assert ("Deployment/sla-worker: BKH_AMQP_URL is not AMQP over TLS with the platform's CA "
            "(amqps://…:5671/…?cafile=…)") in found
    assert any(m.startswith("Deployment/bekhedmetkom-redis: a password on the command line")
               for m in found)


def test_a_broken_overlay_fails_the_render_with_kustomizes_words(kubectl_binary: str,
                                                                  tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="kubectl kustomize .* failed"):
        render(overlay_on_prod(tmp_path, "patches:\n  - path: missing.yaml\n"))
