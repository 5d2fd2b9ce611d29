"""The local server's perimeter (design.md, Reliability and security), as one ASGI middleware.

A server on 127.0.0.1 is still reachable from any web page the user opens, so every request is checked
before it reaches a view:

- Host must be loopback (127.0.0.1, localhost, [::1], any port): a foreign Host means a DNS-rebinding
  page is talking to us -> 400. Only when `peprep serve --allow-remote` binds another address is that
  address accepted too (any IP literal for 0.0.0.0 / ::): a DNS name still is not.
- Unsafe methods (POST, PUT, PATCH, DELETE) must come from our own origin: `Sec-Fetch-Site` other
  than same-origin/none, or an Origin/Referer whose host differs from Host -> 403 (CSRF).
- The URL (2 KiB) and body (64 KiB) are capped -> 414 / 413; a path with `..`, a backslash or a NUL
  is refused -> 400 before any file is looked up.
- Every response carries the security headers below and a `Server-Timing` header with the time the
  app spent (benchmarks/web_latency.py reads it).
"""

from __future__ import annotations

import ipaddress
import re
import time
from html import escape
from urllib.parse import urlsplit

MAX_URL_BYTES = 2048
MAX_BODY_BYTES = 64 * 1024
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_LOOPBACK_HOST = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$", re.I)
_HOST_AND_PORT = re.compile(r"(?:\[([0-9a-fA-F.]*:[0-9a-fA-F:.]*)\]|([A-Za-z0-9.-]+))(?::\d{1,5})?")  # [IPv6] or name

# KaTeX writes a few style *attributes* with setAttribute (\pmb, \fcolorbox, \oiint and other
# SVG glyphs), which CSP would block; the fixture content has them and the browser test fails
# without this. <style> elements and all scripts stay 'self' only.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

_REFUSALS = {
    400: "请求被拒绝",
    403: "拒绝访问",
    413: "请求体太大",
    414: "网址太长",
}


def is_loopback_host(host: str) -> bool:
    return bool(_LOOPBACK_HOST.fullmatch(host))  # fullmatch: `$` alone would accept a trailing newline


def is_allowed_host(host: str, remote_host: str | None = None) -> bool:
    """Loopback, or the address the server was explicitly bound to (`remote_host`), with any port."""
    if is_loopback_host(host):
        return True
    if remote_host is None:
        return False
    match = _HOST_AND_PORT.fullmatch(host)
    if not match:
        return False
    name = match.group(1) or match.group(2)
    if remote_host in ("0.0.0.0", "::"):
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return name.lower() == remote_host.strip("[]").lower()


def refusal(scope: dict, remote_host: str | None = None) -> tuple[int, str] | None:
    """(status, reason) when the request must not reach the app, else None. Pure, for tests."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    host = headers.get("host", "")
    if not is_allowed_host(host, remote_host):
        return 400, "Host 头不是本机地址（127.0.0.1 / localhost / [::1]），请求被拒绝。"
    url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
    if url_bytes > MAX_URL_BYTES:
        return 414, f"网址超过 {MAX_URL_BYTES} 字节。"
    path = scope["path"]
    if "\\" in path or "\x00" in path or ".." in path.split("/"):
        return 400, "网址路径含有不允许的字符（..、\\ 或空字符）。"
    if scope["method"] in UNSAFE_METHODS:
        if reason := _cross_origin(headers, host):
            return 403, reason
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return 413, f"请求体超过 {MAX_BODY_BYTES // 1024} KiB。"
    return None


def _cross_origin(headers: dict[str, str], host: str) -> str | None:
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"跨站请求（Sec-Fetch-Site: {site}）被拒绝。"
    if site == "same-origin":
        # The browser itself vouches for the origin. Trust it over Origin: under our Referrer-Policy
        # (no-referrer) Chromium sends `Origin: null` with a plain same-origin form POST.
        return None
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value is None:
            continue
        if value == "null" or urlsplit(value).netloc.lower() != host.lower():
            return f"跨源请求（{name.capitalize()} 与 Host 不符）被拒绝。"
        return None  # Origin wins over Referer when both are present
    return None


class Guard:
    """ASGI middleware: refuse what `refusal` says, cap streamed bodies, add headers to every answer."""

    def __init__(self, app, remote_host: str | None = None):
        self.app = app
        self.remote_host = remote_host

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        if found := refusal(scope, self.remote_host):
            return await plain_refusal(send, *found)
        received = 0
        too_large = False  # set when a body without Content-Length grows past the cap
        responded = False

        async def capped_receive():
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                too_large = True
                raise BodyTooLarge
            return message

        async def send_with_headers(message):
            nonlocal responded
            if too_large and not responded:
                # FastAPI turns any error while parsing a form into its own 400: drop that answer,
                # the 413 below says what really happened.
                return
            if message["type"] == "http.response.start":
                responded = True
                elapsed_ms = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS,
                                      (b"server-timing", f"app;dur={elapsed_ms:.2f}".encode())]
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLarge:
            pass
        if too_large and not responded:
            await plain_refusal(send, 413, f"请求体超过 {MAX_BODY_BYTES // 1024} KiB。")


class BodyTooLarge(Exception):
    pass


async def plain_refusal(send, status: int, reason: str) -> None:
    """A small self-contained HTML page: refusals happen before the app (and its templates) run."""
    title = _REFUSALS.get(status, "请求被拒绝")
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{status} {escape(title)} · peprep</title></head>"
        f"<body><h1>{status} {escape(title)}</h1><p class=\"error-message\">{escape(reason)}</p>"
        '<p><a href="/">返回首页</a></p></body></html>'
    ).encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
