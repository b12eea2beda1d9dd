"""Settings of the web app (the staff back office and the public pages): the only reader of
`BKH_*` for it.

It owns no database and no bus: it derives from `PlatformSettings`, like the gateway. What it
keeps is staff web sessions, in Redis when several replicas serve (`BKH_WEB_SESSION_STORE`), in
this process otherwise (refused in production, where a restart would sign everyone out).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import AliasChoices, Field

from shared.settings import PlatformSettings


class WebSettings(PlatformSettings):
    service_name: str = "web"

    host: str = "127.0.0.1"
    port: int = Field(default=8107, ge=1, le=65535,
                      validation_alias=AliasChoices("BKH_PORT", "port"))

    # The platform's public API, exactly as any client reaches it.
    gateway_url: str = "http://127.0.0.1:8000"
    gateway_timeout_s: float = Field(default=10.0, gt=0)
    # The live dashboard (served by analytics through the gateway): linked, never rebuilt here.
    dashboard_url: str = "/dashboard"

    # "memory://" (one process) or "redis://host:6379/0" (every replica sees every session).
    session_store: str = "memory://"
    # A session unused this long ends; the refresh token's own limits end it sooner or later.
    idle_minutes: int = Field(default=30, ge=1, le=12 * 60)

    # How often an open work queue asks for its counters (new assignments show without a reload).
    queue_poll_s: int = Field(default=30, ge=1, le=600)
    # Bodies: a form, and a form with a file (the gateway's own upload cap, 20 MiB, on top).
    max_form_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    # How many proxies in front of the web app (the ingress: 1) append to X-Forwarded-For; the
    # address they vouch for is passed on to the gateway, which counts sign-in attempts by it.
    trusted_proxies: int = Field(default=0, ge=0)

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies everywhere but a developer's own machine (plain http://127.0.0.1)."""
        return self.environment.value not in ("development", "test")

    def production_problems(self) -> list[str]:
        # Not the platform's own list: this app verifies no token (it holds the ones the gateway
        # handed it) and runs no business clock.
        problems = []
        if not self.session_store.startswith(("redis://", "rediss://")):
            problems.append("BKH_WEB_SESSION_STORE must point at Redis (sessions outlive a pod)")
        return problems
