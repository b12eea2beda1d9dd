"""One OpenAPI document for the whole public API, merged from every service's own.

Each service describes its routes at `/openapi.json`; the gateway fetches them concurrently,
keeps only the operations its routing table actually sends to that service (so the document
shows exactly what a client can reach), merges `components` without letting one service's
`Citizen` overwrite another's (a name two services define differently is prefixed with the
service's name in both, and every `$ref` follows), and caches the result for a short time.

What it must never do: fail because a service is down (that service is skipped and named in
`x-unavailable-services`), or wait without bound for one.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from gateway.proxy import Upstreams
from gateway.routes import ROUTES, Route, resolve

log = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
UNAVAILABLE_EXTENSION = "x-unavailable-services"
# A document missing a service is rebuilt sooner, so the service shows up soon after it is back.
PARTIAL_CACHE_S = 5.0
GATEWAY = "gateway"

Document = dict[str, Any]


def _ref_target(ref: str) -> tuple[str, str, str] | None:
    """`#/components/<section>/<name>[/rest]` → (section, name, rest)."""
    parts = ref.split("/", 4)
    if len(parts) < 4 or parts[0] != "#" or parts[1] != "components":
        return None
    return parts[2], parts[3], ("/" + parts[4]) if len(parts) == 5 else ""


def _rewrite_refs(node: Any, renames: Mapping[tuple[str, str], str]) -> Any:
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target = _ref_target(value)
                if target is not None and (target[0], target[1]) in renames:
                    section, name, rest = target
                    value = f"#/components/{section}/{renames[(section, name)]}{rest}"
                result[key] = value
            else:
                result[key] = _rewrite_refs(value, renames)
        return result
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _public_paths(service: str, document: Document, routes: Iterable[Route]) -> Document:
    """The path items of `document`, only with operations the table routes to `service`."""
    routes = tuple(routes)
    kept: Document = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        operations = {
            method: operation
            for method, operation in item.items()
            if method in HTTP_METHODS
            and (service == GATEWAY or _served_by(method, path, routes) == service)
        }
        if operations:
            shared = {k: v for k, v in item.items() if k not in HTTP_METHODS}
            kept[path] = {**shared, **operations}
    return kept


def _served_by(method: str, path: str, routes: tuple[Route, ...]) -> str | None:
    route = resolve(method, path, routes)
    return route.service if route else None


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _plan_renames(
    components: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, dict[tuple[str, str], str]]:
    """Per service, the component names that must carry the service's prefix.

    A name is kept as it is when every service defining it defines the same thing (FastAPI's
    `HTTPValidationError` everywhere); otherwise each definer's copy is prefixed. Comparing after
    rewriting refs, until nothing changes: two identical `Page`s that point at different `Item`s
    differ too.
    """
    renames: dict[str, dict[tuple[str, str], str]] = {service: {} for service in components}
    owners: dict[tuple[str, str], list[str]] = {}
    for service, sections in components.items():
        for section, entries in sections.items():
            for name in entries:
                owners.setdefault((section, name), []).append(service)
    changed = True
    while changed:
        changed = False
        for (section, name), services in owners.items():
            if len(services) < 2 or (section, name) in renames[services[0]]:
                continue
            versions = {
                _canonical(_rewrite_refs(components[s][section][name], renames[s]))
                for s in services
            }
            if len(versions) > 1:
                for s in services:
                    renames[s][(section, name)] = f"{s}__{name}"
                changed = True
    return renames


def merge(
    documents: Mapping[str, Document],
    *,
    unavailable: Iterable[str] = (),
    routes: Iterable[Route] = ROUTES,
    title: str = "Bekhedmetkom API",
    version: str = "1.0.0",
) -> Document:
    """Merge the services' documents (by service name) into one."""
    routes = tuple(routes)
    components = {
        service: {
            section: entries
            for section, entries in (document.get("components") or {}).items()
            if isinstance(entries, dict)
        }
        for service, document in documents.items()
    }
    renames = _plan_renames(components)

    paths: Document = {}
    merged_components: dict[str, Document] = {}
    tags: dict[str, Any] = {}
    operation_ids: set[str] = set()
    for service, document in documents.items():
        own_renames = renames[service]
        for path, item in _public_paths(service, document, routes).items():
            item = _rewrite_refs(copy.deepcopy(item), own_renames)
            for method, operation in item.items():
                if method in HTTP_METHODS and isinstance(operation, dict):
                    operation_id = operation.get("operationId")
                    if isinstance(operation_id, str):
                        if operation_id in operation_ids:
                            operation_id = f"{service}_{operation_id}"
                            operation["operationId"] = operation_id
                        operation_ids.add(operation_id)
            paths.setdefault(path, {}).update(item)
        for section, entries in components[service].items():
            target = merged_components.setdefault(section, {})
            for name, definition in entries.items():
                new_name = own_renames.get((section, name)) or str(name)
                definition = _rewrite_refs(definition, own_renames)
                renamed = new_name != name and isinstance(definition, dict)
                if renamed and definition.get("title") == name:
                    # Swagger UI lists schemas by title: make the prefixed ones tell apart.
                    definition["title"] = new_name
                target.setdefault(new_name, definition)
        for tag in document.get("tags") or []:
            if isinstance(tag, dict) and isinstance(tag.get("name"), str):
                tags.setdefault(tag["name"], tag)

    description = (
        "بخدمتكم — the public API of Bekhedmetkom, merged from every service. Errors are "
        "application/problem+json, titled in Arabic or English by Accept-Language."
    )
    missing = sorted(unavailable)
    if missing:
        description += (
            "\n\n**Not included, unavailable right now:** " + ", ".join(missing) + "."
        )
    openapi_versions = sorted(
        str(d.get("openapi")) for d in documents.values() if d.get("openapi")
    )
    merged: Document = {
        "openapi": openapi_versions[-1] if openapi_versions else "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": description,
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            section: dict(sorted(entries.items()))
            for section, entries in sorted(merged_components.items())
        },
        UNAVAILABLE_EXTENSION: missing,
    }
    if tags:
        merged["tags"] = list(tags.values())
    return merged


class OpenApiAggregator:
    """Fetches, merges and caches; one rebuild at a time however many callers ask."""

    def __init__(
        self,
        upstreams: Upstreams,
        *,
        cache_s: float,
        timeout_s: float,
        own_document: Callable[[], Document] | None = None,
        routes: Iterable[Route] = ROUTES,
    ) -> None:
        self._upstreams = upstreams
        self._cache_s = cache_s
        self._timeout_s = timeout_s
        self._own_document = own_document
        self._routes = tuple(routes)
        self._cached: tuple[float, Document] | None = None
        self._lock = asyncio.Lock()

    async def document(self) -> Document:
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh()
            if cached is not None:
                return cached
            document = await self._build()
            ttl = self._cache_s if not document[UNAVAILABLE_EXTENSION] else min(
                self._cache_s, PARTIAL_CACHE_S
            )
            self._cached = (time.monotonic() + ttl, document)
            return document

    def invalidate(self) -> None:
        self._cached = None

    def _fresh(self) -> Document | None:
        if self._cached is not None and time.monotonic() < self._cached[0]:
            return self._cached[1]
        return None

    async def _build(self) -> Document:
        names = [n for n in self._upstreams.names if any(r.service == n for r in self._routes)]
        fetched = await asyncio.gather(*(self._fetch(name) for name in names))
        documents: dict[str, Document] = {}
        unavailable: list[str] = []
        for name, document in zip(names, fetched, strict=True):
            if document is None:
                unavailable.append(name)
            else:
                documents[name] = document
        if self._own_document is not None:
            documents[GATEWAY] = self._own_document()
        return merge(documents, unavailable=unavailable, routes=self._routes)

    async def _fetch(self, name: str) -> Document | None:
        try:
            # httpx bounds each phase; the whole fetch is bounded too.
            async with asyncio.timeout(self._timeout_s * 2):
                response = await self._upstreams.client(name).get(
                    "/openapi.json", timeout=self._timeout_s
                )
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError, TimeoutError) as exc:
            log.warning("openapi of %s unavailable: %s", name, type(exc).__name__)
            return None
        return document if isinstance(document, dict) else None
