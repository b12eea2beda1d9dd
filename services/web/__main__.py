"""`python -m services.web`: the web app alone (the distributed mode: its own Deployment behind
the same Ingress as the gateway, reaching the platform at `BKH_GATEWAY_URL`)."""

from __future__ import annotations

import uvicorn

from services.web.config import WebSettings
from services.web.main import create_web_app
from shared.logging import configure_logging


def main() -> None:
    settings = WebSettings()
    configure_logging("web", settings.log_level)
    uvicorn.run(create_web_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, proxy_headers=False, server_header=False)


if __name__ == "__main__":
    main()
