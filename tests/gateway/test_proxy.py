"""Forwarding: the right service, the right headers, bodies capped and streamed, outages clear."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from gateway.config import GatewaySettings
from gateway.main import create_gateway
from shared.auth import TokenVerifier
from tests.gateway.conftest import (
    AUDIENCE,
    ISSUER,
    FakeService,
    GatewayFactory,
    UvicornThread,
    chunked,
    fake_service,
)

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("GET", "/api/v1/requests/JO-2030-7/status", "intake"),
        ("POST", "/api/v1/requests", "intake"),
        ("POST", "/api/v1/requests/JO-2030-7/accept", "routing"),
        ("POST", "/api/v1/requests/JO-2030-7/refuse-jurisdiction", "routing"),
        ("POST", "/api/v1/requests/JO-2030-7/review-decision", "routing"),
        ("GET", "/api/v1/entities", "routing"),
        ("GET", "/api/v1/holidays", "sla"),
        ("GET", "/api/v1/notifications", "notify"),
        ("GET", "/api/v1/integrity/inbox", "integrity"),
        ("GET", "/api/v1/analytics/kpis", "analytics"),
        ("GET", "/dashboard", "analytics"),
    ],
)
async def test_each_request_reaches_the_service_the_table_names(
    make_gateway: GatewayFactory, method: str, path: str, service: str
) -> None:
    async with make_gateway() as gw:
        response = await gw.client.request(
            method, path, json={"x": 1} if method == "POST" else None
        )
        assert response.status_code in (200, 201)
        assert response.json()["service"] == service
        assert response.json()["path"] == path
        others = [s for name, s in gw.services.items() if name != service]
        assert all(not s.seen for s in others)


async def test_headers_query_and_body_go_through_and_a_request_id_is_added(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway() as gw:
        response = await gw.client.post(
            "/api/v1/requests/JO%2D1/rating?lang=ar&q=%D8%A7%20b",
            content=b'{"score": 5}',
            headers={
                "Content-Type": "application/json",
                "Accept-Language": "en",
                "Idempotency-Key": "k-123",
                "Cookie": "session=abc",
                "X-Forwarded-For": "6.6.6.6",  # a client's claim: not trusted at the edge
                "Connection": "keep-alive, x-hop-header",
                "X-Hop-Header": "for-this-connection-only",
            },
        )
        assert response.status_code == 201
        seen = gw.services["intake"].last
        assert seen.method == "POST"
        assert seen.raw_path == "/api/v1/requests/JO%2D1/rating"  # as the client encoded it
        assert seen.query == "lang=ar&q=%D8%A7%20b"
        assert seen.body == b'{"score": 5}'
        assert seen.headers["content-type"] == "application/json"
        assert seen.headers["accept-language"] == "en"
        assert seen.headers["idempotency-key"] == "k-123"
        assert seen.headers["cookie"] == "session=abc"
        assert seen.headers["x-forwarded-for"] == "203.0.113.7"
        assert seen.headers["x-forwarded-proto"] == "http"
        assert seen.headers["x-forwarded-host"] == "gateway.test"
        assert "x-hop-header" not in seen.headers
        assert seen.headers["x-request-id"] == response.headers["x-request-id"]
        assert len(seen.headers["x-request-id"]) >= 8

        # Back: the service's headers, repeated ones intact, hop-by-hop ones gone, one id.
        assert response.headers["x-upstream"] == "intake"
        assert response.headers.get_list("set-cookie") == [
            "a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"
        ]
        assert "x-secret-hop" not in response.headers
        assert len(response.headers.get_list("x-request-id")) == 1


async def test_a_sane_caller_request_id_is_kept(make_gateway: GatewayFactory) -> None:
    async with make_gateway() as gw:
        response = await gw.client.get(
            "/api/v1/entities", headers={"X-Request-ID": "caller-chosen-id-42"}
        )
        assert response.headers["x-request-id"] == "caller-chosen-id-42"
        assert gw.services["routing"].last.headers["x-request-id"] == "caller-chosen-id-42"


async def test_behind_a_trusted_proxy_the_chain_is_extended(make_gateway: GatewayFactory) -> None:
    async with make_gateway(trusted_proxies=1, client_host="10.0.0.2") as gw:
        await gw.client.get(
            "/api/v1/entities",
            headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"},
        )
        seen = gw.services["routing"].last
        assert seen.headers["x-forwarded-for"] == "198.51.100.9, 10.0.0.2"
        assert seen.headers["x-forwarded-proto"] == "https"


@pytest.mark.parametrize(
    "path",
    # (`/openapi.json` is the gateway's own, the merged document: test_openapi_and_ops.py.)
    ["/api/v1/nothing-here", "/api/v2/requests", "/ops/clock",
     "/api/v1/requests/../../ops/clock", "/api/v1/requests/%2e%2e/x"],
)
async def test_a_path_outside_the_table_is_a_404_problem(
    make_gateway: GatewayFactory, path: str
) -> None:
    async with make_gateway() as gw:
        response = await gw.client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "/problems/not-found"
        assert all(not s.seen for s in gw.services.values())


async def test_a_declared_oversized_body_is_refused_before_reading(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway(max_body_bytes=1000) as gw:
        response = await gw.client.post(
            "/api/v1/requests", content=b"x" * 1001, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["max_bytes"] == 1000
        assert not gw.services["intake"].seen

        exactly = await gw.client.post(
            "/api/v1/requests", content=b"x" * 1000, headers={"Content-Type": "application/json"}
        )
        assert exactly.status_code == 201


async def test_a_chunked_oversized_body_is_cut_off_in_process(
    make_gateway: GatewayFactory,
) -> None:
    async with make_gateway(max_body_bytes=100_000) as gw:
        response = await gw.client.post(
            "/api/v1/requests", content=chunked(b"x" * 300_000, 10_000),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["type"] == "/problems/payload-too-large"
        assert not gw.services["intake"].seen

        small = await gw.client.post(
            "/api/v1/requests", content=chunked(b"y" * 50_000, 10_000),
            headers={"Content-Type": "application/json"},
        )
        assert small.status_code == 201
        assert small.json()["body_length"] == 50_000


async def test_a_chunked_oversized_body_is_cut_off_over_real_http(
    make_gateway: GatewayFactory, real_analytics: tuple[FakeService, str]
) -> None:
    service, url = real_analytics
    before = len(service.seen)
    async with make_gateway(urls={"analytics": url}, max_body_bytes=100_000) as gw:
        response = await gw.client.post(
            "/api/v1/analytics/upload", content=chunked(b"x" * 2_000_000, 50_000),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert len(service.seen) == before  # the service never got a complete request


async def test_file_routes_take_the_larger_cap(make_gateway: GatewayFactory) -> None:
    body = os.urandom(50_000)
    async with make_gateway(max_body_bytes=10_000, max_upload_bytes=60_000) as gw:
        files = {"evidence": ("scan.pdf", body, "application/pdf")}
        report = await gw.client.post("/api/v1/reports", files=files)
        assert report.status_code == 201
        assert gw.services["intake"].last.headers["content-type"].startswith(
            "multipart/form-data"
        )
        too_big = await gw.client.post(
            "/api/v1/reports", files={"evidence": ("big.pdf", body * 2, "application/pdf")}
        )
        assert too_big.status_code == 413
        submission = await gw.client.post("/api/v1/requests", files=files)
        assert submission.status_code == 413


async def test_a_body_in_another_content_type_is_a_415(make_gateway: GatewayFactory) -> None:
    async with make_gateway() as gw:
        response = await gw.client.post(
            "/api/v1/requests", content=b"<xml/>", headers={"Content-Type": "application/xml"}
        )
        assert response.status_code == 415
        assert response.headers["content-type"] == PROBLEM
        assert not gw.services["intake"].seen
        json_body = await gw.client.post(
            "/api/v1/requests", content=b"{}",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert json_body.status_code == 201


async def test_bodies_stream_through_real_http_intact(
    make_gateway: GatewayFactory, real_analytics: tuple[FakeService, str]
) -> None:
    _, url = real_analytics
    body = os.urandom(3 * 1024 * 1024)
    async with make_gateway(urls={"analytics": url}, max_body_bytes=8 * 1024 * 1024) as gw:
        declared = await gw.client.put(
            "/api/v1/analytics/blob", content=body, headers={"Content-Type": "application/json"}
        )
        assert declared.status_code == 200
        assert declared.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
        streamed = await gw.client.post(
            "/api/v1/analytics/blob", content=chunked(body),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 201
        assert streamed.json()["body_length"] == len(body)
        assert streamed.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_responses_stream_chunk_by_chunk_end_to_end(
    real_analytics: tuple[FakeService, str], release_event: threading.Event,
    verifier: TokenVerifier,
) -> None:
    """Gateway and service both on real ports: the first chunk arrives before the last exists."""
    _, url = real_analytics
    release_event.clear()
    settings = GatewaySettings(
        environment="test", jwt_issuer=ISSUER, jwt_audience=AUDIENCE, analytics_url=url
    )
    app = create_gateway(settings, verifier=verifier)
    with UvicornThread(app, lifespan="on") as gateway_server:
        async with (
            httpx.AsyncClient(base_url=gateway_server.url, timeout=15) as client,
            client.stream("GET", "/api/v1/analytics/stream") as response,
        ):
            assert response.status_code == 200
            chunks = response.aiter_raw()
            first = await asyncio.wait_for(anext(chunks), 5)
            assert first.startswith(b"first-chunk;")
            # Only now may the service produce the rest.
            release_event.set()
            rest = first + b"".join([chunk async for chunk in chunks])
        assert rest == b"first-chunk;released;last-chunk"


async def test_an_endless_stream_stops_at_the_service_when_its_client_leaves(
    verifier: TokenVerifier,
) -> None:
    """Server-sent events have no length: the relay must notice the client is gone."""
    stopped = threading.Event()
    service = FastAPI()

    @service.get("/api/v1/analytics/live")
    async def live() -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"data: tick\n\n"
                    await asyncio.sleep(0.05)
            finally:
                stopped.set()

        return StreamingResponse(events(), media_type="text/event-stream")

    with UvicornThread(service) as upstream:
        settings = GatewaySettings(environment="test", jwt_issuer=ISSUER,
                                   jwt_audience=AUDIENCE, analytics_url=upstream.url)
        with UvicornThread(create_gateway(settings, verifier=verifier),
                           lifespan="on") as gateway_server:
            async with (
                httpx.AsyncClient(base_url=gateway_server.url, timeout=15) as client,
                client.stream("GET", "/api/v1/analytics/live") as response,
            ):
                assert "content-length" not in response.headers
                assert await asyncio.wait_for(anext(response.aiter_raw()), 5)
            assert await asyncio.to_thread(stopped.wait, 10), "the service still streams"


async def test_a_service_that_is_down_is_a_quick_503_problem(
    make_gateway: GatewayFactory, dead_url: str
) -> None:
    async with make_gateway(urls={"sla": dead_url}) as gw:
        for method in ("GET", "POST"):
            started = time.monotonic()
            response = await gw.client.request(
                method, "/api/v1/holidays", json={} if method == "POST" else None,
                headers={"Accept-Language": "en"},
            )
            assert time.monotonic() - started < 2
            assert response.status_code == 503
            assert response.headers["content-type"] == PROBLEM
            assert response.headers["retry-after"]
            problem = response.json()
            assert problem["type"] == "/problems/service-unavailable"
            assert problem["title"] == "Service temporarily unavailable"
            text = response.text
            assert "127.0.0.1" not in text
            assert dead_url.rsplit(":", 1)[1] not in text
            assert "sla" not in problem["detail"]
        # The other services are unaffected.
        assert (await gw.client.get("/api/v1/entities")).status_code == 200


class FlakyTransport(httpx.AsyncBaseTransport):
    """Refuses the first connection, then answers; or times out reading, if told to."""

    def __init__(self, *, read_timeout: bool = False) -> None:
        self.calls = 0
        self.read_timeout = read_timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.read_timeout:
            raise httpx.ReadTimeout("slow", request=request)
        if self.calls == 1:
            raise httpx.ConnectError("refused", request=request)
        # An unread stream, as a real transport returns.
        return httpx.Response(
            200, headers={"content-type": "application/json"},
            stream=httpx.ByteStream(b'{"ok": true}'),
        )


def _gateway_with(transport: httpx.AsyncBaseTransport, verifier: TokenVerifier) -> FastAPI:
    settings = GatewaySettings(environment="test", jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    intake = fake_service("intake")
    return create_gateway(
        settings,
        transports={"routing": transport, "intake": httpx.ASGITransport(app=intake.app)},
        verifier=verifier,
    )


async def _get_or_post(app: FastAPI, method: str) -> httpx.Response:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):
        return await client.request(
            method, "/api/v1/entities", json={} if method == "POST" else None
        )


@pytest.mark.parametrize(("method", "status", "calls"), [("GET", 200, 2), ("POST", 503, 1)])
async def test_only_get_and_head_are_retried_once_on_a_connection_error(
    verifier: TokenVerifier, method: str, status: int, calls: int
) -> None:
    transport = FlakyTransport()
    response = await _get_or_post(_gateway_with(transport, verifier), method)
    assert response.status_code == status
    assert transport.calls == calls


async def test_a_read_timeout_is_a_504_problem(verifier: TokenVerifier) -> None:
    transport = FlakyTransport(read_timeout=True)
    response = await _get_or_post(_gateway_with(transport, verifier), "GET")
    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert transport.calls == 1  # a timeout is not retried
