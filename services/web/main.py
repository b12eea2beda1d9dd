"""The web app: every page a person opens (the staff back office under `/office/`).

`create_web_app` builds the same app for both ways to run: the embedded mode passes a transport
that reaches the in-process gateway; the distributed mode calls the gateway at
`BKH_GATEWAY_URL` over pooled HTTP, as any client would.

What it must never do: reach a service but through the gateway's public API; keep anything but
staff web sessions; render a person's text unescaped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any, Final

import httpx
import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from httpx_aiohttp import AiohttpTransport
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web.back_office import (
    auth,
    calendar,
    callers,
    cases,
    directory,
    paper,
    people,
    queue,
    sealed,
    search,
)
from services.web.config import WebSettings
from services.web.directory import Directory
from services.web.files import BodyLimitMiddleware, BodyTooLarge
from services.web.office import (
    OFFICE,
    STATIC,
    CsrfRefused,
    Office,
    PageForbidden,
    WebApp,
    _office,
    sign_in_url,
    web_of,
)
from services.web.platform import ApiProblem, Platform, SignInRequired
from services.web.public import rating, tracking
from services.web.security import PageHeadersMiddleware
from services.web.sessions import SessionStoreAway, open_store
from shared.memory import tune_for_serving
from shared.web import NO_FASTAPI_TELEMETRY, RequestContextMiddleware, metrics_response

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
# What a 503 page asks the browser (and any client) to wait before trying again, in seconds.
RETRY_AFTER_S: Final = "5"


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, auto_reload=False,
    )


def no_cookies() -> CookieJar:
    """The jar of the one client every signed-in person's calls share: it keeps nothing, so a
    cookie set on one person's answer is never sent with another's call (the API uses none)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def create_web_app(settings: WebSettings | None = None, *,
                   gateway_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.gateway_timeout_s, connect=2.0)
        # Pooled over aiohttp, as the gateway reaches the services: httpcore's own pool scans
        # every connection per request (bench/README.md, "The machine caveat").
        transport = gateway_transport or AiohttpTransport(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            trust_env=False)
        async with httpx.AsyncClient(base_url=settings.gateway_url, transport=transport,
                                     timeout=timeout, follow_redirects=False,
                                     cookies=no_cookies()) as http:
            store = open_store(settings.session_store, settings.idle_timeout)
            app.state.web = WebApp(settings=settings, platform=Platform(http, store),
                                   store=store, templates=templates(), directory=Directory(http))
            tune_for_serving()
            try:
                yield
            finally:
                await store.close()

    app = FastAPI(title="Bekhedmetkom web", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None, telemetry=NO_FASTAPI_TELEMETRY)
    app.add_middleware(PageHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, service="web")
    app.add_middleware(BodyLimitMiddleware, max_form_bytes=settings.max_form_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="static")
    _install_health(app)
    for module in (auth, queue, cases, search, callers, paper, sealed, directory, people,
                   calendar, tracking, rating):
        app.include_router(module.router)
    _install_page_errors(app)
    return app


def _install_health(app: FastAPI) -> None:
    """Probes and metrics, outside `/office/` (the Ingress never routes them)."""

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        web: WebApp = request.app.state.web
        checks = {"gateway": "ok", "sessions": "ok"}
        try:
            answer = await web.platform.http.get("/api/v1/governorates")
            if not answer.is_success:
                checks["gateway"] = f"answered {answer.status_code}"
        except httpx.HTTPError as exc:
            checks["gateway"] = f"unavailable: {type(exc).__name__}"
        if not await web.store.healthy():
            checks["sessions"] = "unavailable"
        # Ready on the session store alone: with the gateway away, a page still tells people so
        # in their language, which beats the load balancer's bare 503.
        ready = checks["sessions"] == "ok"
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()


def _install_page_errors(app: FastAPI) -> None:
    """Errors as pages a person can read (in their language), never as JSON or a stack."""

    async def page(request: Request, template: str, status: int, **context: Any
                   ) -> HTMLResponse:
        office = await _office(request)
        return office.render(template, status=status, **context)

    @app.exception_handler(SignInRequired)
    async def sign_in_again(request: Request, _: SignInRequired) -> Response:
        fragment = request.headers.get("hx-request") == "true"
        if fragment:
            # htmx asked for a part of a page (the queue's counters): come back to that page,
            # not to the bare part.
            back = _office_page(request.headers.get("hx-current-url"))
        elif request.method == "GET":
            back = _office_page(str(request.url))
        else:
            back = _office_page(request.headers.get("referer"))
        target = sign_in_url(back, reason="expired")
        if fragment:
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, _: PageForbidden) -> HTMLResponse:
        return await page(request, "office/error.html", 403, heading="error.forbidden",
                          lead="error.forbidden_lead")

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> HTMLResponse:
        return await page(request, "office/error.html", 403, heading="error.forbidden",
                          lead="error.csrf")

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, _: BodyTooLarge) -> HTMLResponse:
        return await page(request, "office/error.html", 413, heading="error.too_large",
                          lead="error.too_large_lead")

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, problem: ApiProblem) -> HTMLResponse:
        if problem.status == 404:
            return await page(request, "office/error.html", 404, heading="error.not_found",
                              lead="error.not_found_lead")
        if problem.status == 403:
            return await page(request, "office/error.html", 403, heading="error.forbidden",
                              lead="error.forbidden_lead")
        status = problem.status if problem.status >= 500 else 502
        log.warning("platform answered %s (%s) to a page", problem.status, problem.code)
        return await page(request, "office/error.html", status, heading="error.unavailable",
                          lead="error.unavailable_lead")

    @app.exception_handler(httpx.HTTPError)
    async def platform_unreachable(request: Request, exc: httpx.HTTPError) -> HTMLResponse:
        log.warning("platform unreachable from a page: %s", type(exc).__name__)
        response = await page(request, "office/error.html", 503, heading="error.unavailable",
                              lead="error.unavailable_lead")
        response.headers["Retry-After"] = RETRY_AFTER_S
        return response

    @app.exception_handler(SessionStoreAway)
    async def sessions_away(request: Request, exc: SessionStoreAway) -> HTMLResponse:
        log.warning("session store unreachable from a page: %s", exc)
        # Said without a session: reading it again is what failed.
        response = Office(request, web_of(request), None).render(
            "office/error.html", status=503, heading="error.unavailable",
            lead="error.unavailable_lead")
        response.headers["Retry-After"] = RETRY_AFTER_S
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> HTMLResponse:
        log.exception("page failed", exc_info=exc)
        return await page(request, "office/error.html", 500, heading="error.unexpected",
                          lead="error.unavailable_lead")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 405:
            return await page(request, "office/error.html", 405, heading="error.not_found",
                              lead="error.not_found_lead")
        return await page(request, "office/error.html", exc.status_code if exc.status_code
                          < 500 else 500, heading="error.not_found", lead="error.not_found_lead")


def _office_page(url: str | None) -> str | None:
    """The back-office page (path and query) a URL names, to come back to after signing in.
    Browsers send only this site's URLs here (the Referrer-Policy says so); anything else
    counts as none."""
    if not url:
        return None
    page = httpx.URL(url)
    if not page.path.startswith(f"{OFFICE}/"):
        return None
    return page.path + (f"?{page.query.decode()}" if page.query else "")


__all__ = ["Office", "create_web_app"]
