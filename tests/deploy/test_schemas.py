"""The rendered overlays are valid Kubernetes: every built-in object passes
`kubernetes-validate --strict` for a current Kubernetes version, and every operator's custom
resource is checked against its CRD's schema where the repository has it
(deploy/k8s/schemas/). A kind that has neither is named, with the reason, never passed over."""

from __future__ import annotations

import json
from pathlib import Path

# Neither ships type information, and no stubs for them are in the lock.
import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import K8S, Resource, ident

KUBERNETES_VERSION = "1.37"
SCHEMAS = K8S / "schemas"

# Custom resources whose CRD schema is not vendored yet (deploy/k8s/schemas/README.md), with the
# reason. Such a kind is still held to the rules of test_manifests.py.
NOT_YET_VENDORED = {
    ("cert-manager.io/v1", kind): "cert-manager's CRDs are not among the vendored ones yet"
    for kind in ("Issuer", "Certificate")
}


def vendored_schema(resource: Resource) -> Path:
    api_version: str = resource["apiVersion"]
    group, _, version = api_version.rpartition("/")
    return SCHEMAS / group / f"{resource['kind'].lower()}_{version}.json"


def is_builtin(resource: Resource) -> bool:
    group = resource["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def test_built_in_objects_are_valid_for_a_current_kubernetes(overlay: list[Resource]) -> None:
    failures = []
    for resource in filter(is_builtin, overlay):
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(f"{ident(resource)}: {path}: {exc.message}")
    assert failures == []


def test_custom_resources_match_their_operators_schemas(overlay: list[Resource]) -> None:
    failures, unchecked = [], set()
    for resource in (r for r in overlay if not is_builtin(r)):
        path = vendored_schema(resource)
        if not path.is_file():
            key = (resource["apiVersion"], resource["kind"])
            if key not in NOT_YET_VENDORED:
                failures.append(f"{ident(resource)} ({resource['apiVersion']}): no schema in "
                                f"{SCHEMAS} and not listed as not yet vendored")
            unchecked.add(key)
            continue
        schema = json.loads(path.read_text())
        validator = jsonschema.validators.validator_for(schema)(schema)
        failures += [f"{ident(resource)}: {'.'.join(map(str, e.path))}: {e.message}"
                     for e in validator.iter_errors(resource)]
    assert failures == []
    assert unchecked <= set(NOT_YET_VENDORED)


def test_a_vendored_schema_refuses_a_misspelt_field() -> None:
    vhost = {"apiVersion": "rabbitmq.com/v1beta1", "kind": "Vhost", "metadata": {"name": "x"},
             "spec": {"name": "x", "defaultQueType": "quorum",
                      "rabbitmqClusterReference": {"name": "mq"}}}
    schema = json.loads(vendored_schema(vhost).read_text())
    with pytest.raises(jsonschema.ValidationError, match="defaultQueType"):
        jsonschema.validate(vhost, schema)


@pytest.mark.parametrize("kind", ["Cluster", "RabbitmqCluster"])
def test_the_data_services_are_checked_strictly_too(overlay: list[Resource], kind: str) -> None:
    (resource,) = [r for r in overlay if r["kind"] == kind]
    misspelt = {**resource, "spec": {**resource["spec"], "replicass": 3}}
    schema = json.loads(vendored_schema(resource).read_text())
    with pytest.raises(jsonschema.ValidationError, match="replicass"):
        jsonschema.validate(misspelt, schema)


def test_kubernetes_validate_refuses_an_unknown_field() -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
               "spec": {"ports": [{"port": 80}], "selecter": {"a": "b"}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)
