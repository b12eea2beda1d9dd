"""The rendered overlays keep the deployment's rules (issue 9): restricted, probed, resourced,
non-root pods; a network policy for every Service; secrets referenced, never written; images
pinned; the gateway alone behind the Ingress; the signing key only where tokens are issued."""

from __future__ import annotations

from services import SERVICES
from services.web.office import OFFICE, PUBLIC_PAGES
from tests.deploy.manifests import (
    OVERLAYS,
    Resource,
    image_violations,
    ingress_backends,
    network_violations,
    platform_pod_violations,
    probe_violations,
    render,
    resource_violations,
    restricted_violations,
    secret_violations,
    signing_key_holders,
    transport_violations,
    workloads,
)


def test_there_are_a_dev_and_a_prod_overlay() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


def test_every_overlay_renders_the_whole_platform(overlay: list[Resource]) -> None:
    deployments = {r["metadata"]["name"] for r in overlay if r["kind"] == "Deployment"}
    jobs = {r["metadata"]["name"] for r in overlay if r["kind"] == "Job"}
    assert "gateway" in deployments
    release = _release(overlay)
    for name in SERVICES:
        assert {f"{name}-api", f"{name}-worker"} <= deployments
        # Named by release: a new release's Jobs are applied beside the finished ones.
        assert f"{name}-migrate-{release}" in jobs
    kinds = {r["kind"] for r in overlay}
    assert {"Cluster", "RabbitmqCluster", "Vhost", "Ingress", "PodMonitor",
            "PrometheusRule"} <= kinds


def _release(overlay: list[Resource]) -> str:
    """The image tag every process runs (the overlays set it once)."""
    images = [spec["containers"][0]["image"] for _, spec in workloads(overlay)]
    tags: set[str] = {image.rsplit(":", 1)[1] for image in images
                      if image.rsplit("/", 1)[-1].startswith("bekhedmetkom:")}
    assert len(tags) == 1, tags
    return tags.pop()


def test_every_pod_is_restricted(overlay: list[Resource]) -> None:
    assert restricted_violations(overlay) == []


def test_the_platform_runs_as_the_image_user_without_an_api_token(
    overlay: list[Resource]
) -> None:
    assert platform_pod_violations(overlay) == []


def test_every_long_running_container_is_probed(overlay: list[Resource]) -> None:
    assert probe_violations(overlay) == []


def test_every_container_has_requests_and_limits(overlay: list[Resource]) -> None:
    assert resource_violations(overlay) == []


def test_every_image_is_pinned_and_the_platform_runs_one_release(
    overlay: list[Resource]
) -> None:
    assert image_violations(overlay) == []


def test_secrets_are_referenced_never_written_and_all_provided(overlay: list[Resource]) -> None:
    assert secret_violations(overlay) == []


def test_every_service_has_a_network_policy_and_the_rest_is_denied(
    overlay: list[Resource]
) -> None:
    assert network_violations(overlay) == []


def test_the_broker_and_the_rate_limit_store_speak_tls_and_hide_their_password(
    overlay: list[Resource]
) -> None:
    assert transport_violations(overlay) == []


def test_only_the_gateway_and_the_pages_are_behind_the_ingress(overlay: list[Resource]) -> None:
    assert ingress_backends(overlay) == {"gateway", "web"}
    public = {path["path"]: path["backend"]["service"]["name"]
              for r in overlay if r["kind"] == "Ingress"
              for rule in r["spec"]["rules"] for path in rule["http"]["paths"]}
    assert not any(p.startswith(("/livez", "/readyz", "/metrics")) for p in public)
    assert [p for p, backend in public.items() if backend == "web"] == [OFFICE, *PUBLIC_PAGES]


def test_only_the_issuers_api_pods_hold_the_signing_key(overlay: list[Resource]) -> None:
    assert signing_key_holders(overlay) == {"intake-api", "routing-api"}


def test_api_pods_serve_http_only_and_workers_consume(overlay: list[Resource]) -> None:
    for resource, spec in workloads(overlay):
        name = resource["metadata"]["name"]
        container = spec["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if name.endswith("-api"):
            assert container["args"][:3] == ["services", "serve", name.removesuffix("-api")]
            assert env["BKH_RUN_WORKERS"] == "false"
        elif name.endswith("-worker"):
            assert container["args"][:3] == ["services", "work", name.removesuffix("-worker")]
        elif resource["kind"] == "Job":
            release = container["image"].rsplit(":", 1)[1]
            assert name.endswith(f"-migrate-{release}"), name
            assert container["args"] == [
                "services", "migrate", name.removesuffix(f"-migrate-{release}")]


def test_the_namespace_enforces_pod_security_restricted(overlay: list[Resource]) -> None:
    (namespace,) = [r for r in overlay if r["kind"] == "Namespace"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(r["metadata"].get("namespace") == namespace["metadata"]["name"]
               for r in overlay if r["kind"] != "Namespace")


def test_production_autoscales_every_stateless_deployment(rendered: dict[str, list[Resource]]
                                                          ) -> None:
    prod = rendered["prod"]
    scaled = {r["spec"]["scaleTargetRef"]["name"] for r in prod
              if r["kind"] == "HorizontalPodAutoscaler"}
    stateless = {r["metadata"]["name"] for r in prod if r["kind"] == "Deployment"
                 and r["metadata"]["labels"].get("app.kubernetes.io/component")
                 in ("gateway", "web", "api", "worker")}
    assert scaled == stateless
    for resource in prod:
        if resource["metadata"]["name"] in stateless and resource["kind"] == "Deployment":
            assert "replicas" not in resource["spec"]  # the autoscaler owns it
            assert resource["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert all(r["spec"]["minReplicas"] >= 2 for r in prod
               if r["kind"] == "HorizontalPodAutoscaler")


def test_backup_alerts_read_the_barman_cloud_plugins_metrics() -> None:
    """The plugin takes the backups, so its metrics say how old they are; the operator's own
    `cnpg_collector_*backup*` ones stay unset and would make the alert fire forever."""
    rules = [rule for r in render(OVERLAYS["prod"]) if r["kind"] == "PrometheusRule"
             for group in r["spec"]["groups"] for rule in group["rules"]]
    backup = {rule["alert"]: rule["expr"] for rule in rules if "Backup" in rule.get("alert", "")}
    assert set(backup) == {"BekhedmetkomPostgresBackupTooOld", "BekhedmetkomPostgresBackupFailed"}
    for expr in backup.values():
        assert "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp" in expr
    assert not [rule for rule in rules if "cnpg_collector_last" in rule.get("expr", "")
                or "cnpg_collector_first_recoverability" in rule.get("expr", "")]
