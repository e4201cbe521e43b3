"""HTTP plumbing: a threading server with keep-alive, the session cookie, static files and routing.

Built for many browsers at once: one thread per connection, HTTP/1.1 keep-alive, Nagle off (headers
and body go out as separate writes; with Nagle on, delayed ACKs would add ~40 ms per response), a
deep accept backlog and no request logging unless asked for.
"""

from __future__ import annotations

import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo_shop import views
from demo_shop.variants import apply_variant, variant_for_host

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}
SESSION_COOKIE = "shop_session"
MAX_BODY_BYTES = 64 * 1024
MAX_DELAY_MS = 5000


def _load_static() -> dict[str, tuple[bytes, str]]:
    files = {}
    for path in STATIC_DIR.iterdir():
        if path.suffix in STATIC_TYPES:
            url = "/favicon.svg" if path.name == "favicon.svg" else f"/static/{path.name}"
            files[url] = (path.read_bytes(), STATIC_TYPES[path.suffix])
    return files


STATIC_FILES = _load_static()


def _first_values(raw: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _delay_seconds(query: dict[str, str]) -> float:
    try:
        milliseconds = int(query.get("delay_ms", "0"))
    except ValueError:
        return 0.0
    return max(0, min(milliseconds, MAX_DELAY_MS)) / 1000


class ShopServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def handle_error(self, request, client_address) -> None:
        # A browser that closes a connection mid-response is normal; anything else is worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this many seconds, which frees their thread.
    timeout = 60
    verbose = False
    variant = "original"  # the server's default (demo_shop/variants.py); a host name may choose another

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def version_string(self) -> str:
        return "DemoShop/1.0"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        if self.verbose:
            super().log_message(format, *args)

    def _serve(self, head: bool = False) -> None:
        url = urlsplit(self.path)
        path = url.path or "/"
        if path == "/health":
            response = views.Response(body=b"ok", content_type="text/plain; charset=utf-8")
        elif path in STATIC_FILES and self.command in ("GET", "HEAD"):
            body, content_type = STATIC_FILES[path]
            response = views.Response(body=body, content_type=content_type,
                                      headers=[("Cache-Control", "public, max-age=300")])
        elif path == "/favicon.ico":
            response = views.Response(status=204)
        else:
            response = self._dispatch(path, _first_values(url.query))
        self._send(response, head=head)

    def _dispatch(self, path: str, query: dict[str, str]) -> views.Response:
        form: dict[str, str] = {}
        if self.command == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                self.close_connection = True
                return views.Response(status=413, body=b"Request body too large or of unknown length",
                                      content_type="text/plain")
            form = _first_values(self.rfile.read(length).decode("utf-8", errors="replace"))
        method = "GET" if self.command == "HEAD" else self.command
        matches = [(route_method, match, view, delayable) for route_method, pattern, view, delayable in views.ROUTES
                   if (match := pattern.match(path))]
        route = next((item for item in matches if item[0] == method), None)
        if matches and route is None:
            allowed = ", ".join(sorted({item[0] for item in matches}))
            return views.Response(status=405, body=b"Method not allowed", content_type="text/plain",
                                  headers=[("Allow", allowed)])
        if route is not None and route[3]:
            time.sleep(_delay_seconds(query))  # outside the lock: a slow search never blocks other pages
        token = _cookie(self.headers.get("Cookie", ""), SESSION_COOKIE)
        with views.STORE.lock:
            session, created = views.STORE.session(token)
            request = views.Request(method=method, path=path, query=query, form=form, session=session,
                                    args=route[1].groups() if route else ())
            try:
                response = route[2](request) if route else views.not_found(request)
            except Exception:  # noqa: BLE001 - one broken page must not take the server down
                traceback.print_exc()
                response = views.Response(status=500, body=b"Internal error", content_type="text/plain")
        if created:
            response.headers.append(("Set-Cookie", f"{SESSION_COOKIE}={session.token}; Path=/; HttpOnly; SameSite=Lax"))
        if response.content_type.startswith("text/html"):
            response.headers.append(("Cache-Control", "no-store"))
            variant = variant_for_host(self.headers.get("Host", ""), self.variant)
            if variant != "original":
                response.body = apply_variant(response.body.decode("utf-8"), variant).encode("utf-8")
        return response

    def _send(self, response: views.Response, head: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if not head and response.body:
            self.wfile.write(response.body)


def make_server(host: str, port: int, *, verbose: bool = False, variant: str = "original") -> ShopServer:
    handler = type("Handler", (ShopHandler,), {"verbose": verbose, "variant": variant})
    return ShopServer((host, port), handler)
