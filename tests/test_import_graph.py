"""The shape of the code, kept by a test over its import graph.

- No circle: a module never reaches itself through its imports, counting the imports made for
  type checking only and those inside functions (a circle hidden there is still one).
- No service imports another (they talk over events and HTTP), and the kernel (`shared`)
  imports no service. The web app is a client of the gateway: it imports no service either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shared", "services", "gateway", "simulators")
SERVICES = ("intake", "routing", "sla", "notify", "integrity", "analytics", "web")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # alembic revisions are loaded by file, never imported
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> Iterator[str]:
    """Every module of ours that `module` imports, wherever the import statement stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # `from package import module` names a module; `from module import name` not.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        yield from (target for target in targets if target in MODULES)


GRAPH = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _circles() -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(GRAPH[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in GRAPH[module]:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def _service_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 and parts[1] in SERVICES \
        else None


def test_the_graph_sees_the_packages_and_their_imports() -> None:
    """The graph is not empty by mistake: it knows the kernel's own edges."""
    assert "shared.service" in GRAPH
    assert "shared.runtime" in GRAPH["shared.service"]
    assert "services.intake.main" in GRAPH


def test_no_module_reaches_itself_through_its_imports() -> None:
    assert _circles() == []


def test_no_service_imports_another_and_the_kernel_imports_none() -> None:
    crossings = []
    for module, imports in sorted(GRAPH.items()):
        own = _service_of(module)
        for imported in sorted(imports):
            theirs = _service_of(imported)
            if module.startswith("shared.") and imported.startswith("services."):
                crossings.append(f"{module} -> {imported}")
            elif own is not None and theirs is not None and theirs != own:
                crossings.append(f"{module} -> {imported}")
    assert crossings == []
