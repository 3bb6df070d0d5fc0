"""Security headers on every HTTP response.

A plain ASGI middleware (not BaseHTTPMiddleware) so that streamed CSV
downloads are not buffered and websockets pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline scripts or styles, no inline event handlers, nothing from other
# hosts: poll must run on a LAN without internet. `connect-src 'self'` covers
# the websocket to the same host (ws:/wss: by CSP Level 3 rules).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


# Over HTTPS only: browsers ignore it over plain HTTP, and a phone that once saw it
# for a host would refuse that host over HTTP for a year. A year, and no
# includeSubDomains: poll speaks for its own host only. The scheme is "https"
# when the server speaks TLS itself or a proxy named by --proxy-ips says so.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_security_headers(scope, send))


def with_security_headers(scope: Scope, send: Send) -> Send:
    """`send`, adding the headers above to the response's start (those it lacks)."""
    https = scope.get("scheme") == "https"

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in HEADERS.items():
                if name not in headers:
                    headers[name] = value
            if https:
                headers["strict-transport-security"] = STRICT_TRANSPORT_SECURITY
        await send(message)

    return send_with_headers
