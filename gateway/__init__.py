"""The gateway: the one public door to every service (see `gateway/main.py`).

It owns nothing persistent. `gateway/routes.py` is the one table of which service serves which
path; `create_gateway` builds the app for both the embedded and the distributed mode.
"""

from gateway.config import GatewaySettings
from gateway.main import create_gateway

__all__ = ["GatewaySettings", "create_gateway"]
