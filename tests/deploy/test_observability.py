"""What operators watch is real: every platform metric the alerts and the dashboard name is
defined by the code, every alert has its section in the runbook, the dashboard is sound JSON."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import prometheus_client
import pytest

from tests.deploy.manifests import K8S, ROOT, Resource

DASHBOARD = K8S / "base" / "observability" / "dashboards" / "bekhedmetkom.json"
RUNBOOK = (ROOT / "deploy" / "RUNBOOK.md").read_text()
_PLATFORM_METRIC = re.compile(r"\bbkh_[a-z0-9_]+")
_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


@pytest.fixture(scope="module")
def defined_metrics() -> set[str]:
    """Every metric the code registers: import each module of shared, gateway and services."""
    for package in ("shared", "gateway", "services"):
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" not in module.name and not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    names: set[str] = set()
    for metric in prometheus_client.REGISTRY.collect():
        names.add(metric.name)
    return names


def base_name(sample: str) -> str:
    for suffix in _SUFFIXES:
        if sample.endswith(suffix):
            return sample.removesuffix(suffix)
    return sample


def alert_rules(resources: list[Resource]) -> list[dict[str, object]]:
    return [rule for r in resources if r["kind"] == "PrometheusRule"
            for group in r["spec"]["groups"] for rule in group["rules"] if "alert" in rule]


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def test_alerts_name_only_metrics_the_code_defines(overlay: list[Resource],
                                                    defined_metrics: set[str]) -> None:
    named = {base_name(m) for rule in alert_rules(overlay)
             for m in _PLATFORM_METRIC.findall(str(rule["expr"]))}
    assert named, "the alerts watch the platform's own metrics"
    assert named - defined_metrics == set()


def test_the_dashboard_names_only_metrics_the_code_defines(defined_metrics: set[str]) -> None:
    named = {base_name(m) for expr in dashboard_queries() for m in _PLATFORM_METRIC.findall(expr)}
    assert named - defined_metrics == set()


def test_every_alert_has_its_runbook_section(overlay: list[Resource]) -> None:
    for rule in alert_rules(overlay):
        name = str(rule["alert"])
        assert f"### {name}\n" in RUNBOOK, f"deploy/RUNBOOK.md has no section for {name}"
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["runbook_url"] == f"deploy/RUNBOOK.md#{name.lower()}"
        assert annotations["summary"]
        labels = rule["labels"]
        assert isinstance(labels, dict)
        assert labels["severity"] in ("warning", "critical")


def test_the_dashboard_covers_the_golden_signals_and_the_sla(defined_metrics: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    rows = {panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"}
    assert {"Golden signals", "SLA indicators", "Events", "Data"} <= rows
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel.get("targets") for panel in dashboard["panels"] if panel["type"] != "row")


def test_the_dashboard_reaches_grafana_by_its_sidecar_label(overlay: list[Resource]) -> None:
    (config_map,) = [r for r in overlay if r["kind"] == "ConfigMap"
                     and r["metadata"]["name"] == "bekhedmetkom-dashboard"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["bekhedmetkom.json"])["uid"] == "bekhedmetkom"
