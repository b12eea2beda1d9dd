"""What the gateway's endpoints and its forwarding share, and the one question every request
meets first: who is calling, and may they now (`admit`: the token, the rate limits and, for
staff, their standing).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from gateway.config import GatewaySettings
from gateway.openapi import OpenApiAggregator
from gateway.proxy import Proxy, Upstreams, client_address
from gateway.ratelimit import RateLimiter
from gateway.standing import StandingRecord, check_standing, needs_standing
from shared.auth import Principal, TokenVerifier, bearer_token
from shared.errors import Text, Unauthorized

_TWO_TOKENS = Text("أكثر من ترويسة Authorization واحدة.", "More than one Authorization header.")


@dataclass
class GatewayState:
    """What the endpoints share; the upstream side exists between lifespan start and stop."""

    settings: GatewaySettings
    verifier: TokenVerifier
    limiter: RateLimiter
    standing: StandingRecord
    upstreams: Upstreams | None = None
    proxy: Proxy | None = None
    openapi: OpenApiAggregator | None = None

    def require_proxy(self) -> Proxy:
        if self.proxy is None:
            raise RuntimeError("the gateway's lifespan has not started")
        return self.proxy

    def authenticate(self, request: Request) -> Principal | None:
        values = request.headers.getlist("authorization")
        if len(values) > 1:
            # The gateway would check one and a service might read the other.
            raise Unauthorized(_TWO_TOKENS)
        token = bearer_token(values[0] if values else None)
        return self.verifier.verify(token) if token else None

    async def admit(self, request: Request, *, served_by: str | None = None) -> Principal | None:
        """Token (when there is one), rate limits and, for staff, their standing in the
        directory now: who is calling and whether they may now. `served_by`: the service the
        route table sends the request to (None: none, or not a forwarded request)."""
        method, path = request.method, request.scope["path"]
        address = client_address(request, self.settings.trusted_proxies)
        try:
            principal = self.authenticate(request)
        except Unauthorized:
            # A forged or garbage token still spends the address's budget: guessing is costly.
            await self.limiter.check(method, path, f"ip:{address}")
            raise
        client = f"sub:{principal.subject}" if principal else f"ip:{address}"
        await self.limiter.check(method, path, client)
        # After the rate limit, so that a flood of staff tokens does not flood routing too.
        if self.settings.staff_standing_check and needs_standing(principal, served_by):
            assert self.upstreams is not None, "the gateway's lifespan has not started"
            await check_standing(self.upstreams.client("routing"),
                                 request.headers["authorization"],
                                 timeout_s=self.settings.upstream_probe_timeout_s,
                                 record=self.standing)
        return principal
