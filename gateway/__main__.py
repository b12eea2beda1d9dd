"""`python -m gateway`: run the gateway alone, in front of services listening on their ports.

Uvicorn's own X-Forwarded-For handling is off: which proxies to trust is the gateway's decision
(`BKH_TRUSTED_PROXIES`), not uvicorn's default of trusting whatever connects from 127.0.0.1.
"""

from __future__ import annotations

import uvicorn

from gateway.config import GatewaySettings
from shared.logging import configure_logging


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        "gateway.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
