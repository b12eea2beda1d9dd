"""Strict JSON schemas from operators' published CRDs, as deploy/k8s/schemas/ keeps them.

    python -m tests.deploy.crd_schemas CRD.yaml [CRD.yaml …]

For each served version of each CRD, writes `deploy/k8s/schemas/<group>/<kind>_<version>.json`:
its `openAPIV3Schema` without descriptions, every object that lists its properties closed to
others (`additionalProperties: false`, as the CRDs catalog does) unless the CRD keeps unknown
fields there (`x-kubernetes-preserve-unknown-fields`). The API server would prune a misspelt
field silently; the test refuses it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.manifests import K8S


def strict(node: Any) -> Any:
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: strict(value) for key, value in node.items() if key != "description"}
    if ("properties" in closed and "additionalProperties" not in closed
            and not closed.get("x-kubernetes-preserve-unknown-fields")):
        closed["additionalProperties"] = False
    return closed


def write_schemas(crd_path: Path, into: Path = K8S / "schemas") -> list[Path]:
    crd = yaml.safe_load(crd_path.read_text())
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    written = []
    for version in crd["spec"]["versions"]:
        if not version.get("served"):
            continue
        path = into / group / f"{kind.lower()}_{version['name']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = strict(version["schema"]["openAPIV3Schema"])
        path.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        for done in write_schemas(Path(argument)):
            print(done)
