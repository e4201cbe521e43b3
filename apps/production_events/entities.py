"""The project entities an error belongs to: the page (a URL path with its ids replaced) and the API
endpoint ("POST /api/orders/:id"). Risk scores and coverage gaps count errors per entity, so the same
page must give the same string whatever order, user or session id was in the URL.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

ID = ":id"
MAX_PATH = 500
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_NUMERIC = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}$")
# Route placeholders as frameworks write them: {id}, <int:pk>, :orderId, [slug].
_PLACEHOLDER = re.compile(r"^(?:\{[^/]*\}|<[^/]*>|:[A-Za-z_]\w*|\[[^/]*\])$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# Mixed tokens: ORD-10293, item_12345, a base64url session or share token.
_WITH_DIGITS = re.compile(r"\d{3,}")
_LONG_TOKEN = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$")
_ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)$", re.IGNORECASE)
_API_PATH = re.compile(r"^/(?:api|graphql|rest|rpc|v\d+)(?:/|$)|\.json$", re.IGNORECASE)


def _is_id(segment: str) -> bool:
    if segment == ID:
        return False
    if _NUMERIC.match(segment) or _UUID.match(segment) or _HEX.match(segment) or _PLACEHOLDER.match(segment):
        return True
    if _EMAIL.match(segment) or _LONG_TOKEN.match(segment):
        return True
    return len(segment) >= 6 and bool(_WITH_DIGITS.search(segment)) and "." not in segment


def _normalize_segments(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment]
    normalized = [ID if _is_id(unquote(segment)) else segment for segment in segments]
    return "/" + "/".join(normalized)


def page_path(url: str) -> str:
    """The page a URL shows: path only, ids / uuids / hashes / long numbers / tokens as ":id", no query,
    no trailing slash ("/orders/123/edit?x=1" → "/orders/:id/edit"). Hash routes of single-page apps
    count as the path ("/#/orders/12" → "/#/orders/:id")."""
    if not isinstance(url, str) or not url.strip():
        return ""
    text = url.strip()
    try:
        parts = urlsplit(text if "://" in text or text.startswith("/") else "/" + text)
    except ValueError:
        return ""
    path = _normalize_segments(parts.path)
    if parts.fragment.startswith("/"):
        route = _normalize_segments(parts.fragment.split("?", 1)[0])
        path = ("" if path == "/" else path) + "/#" + route
    return path[:MAX_PATH]


def api_endpoint_of(*, method: str = "", url: str = "", transaction: str = "") -> str:
    """The API endpoint an error happened in, "METHOD /path" with ids normalized, or "".

    From a transaction that names an endpoint ("POST /api/orders/{id}", or a path plus the request
    method), else from the request method and URL of a server-side error, else from a URL alone when its
    path is plainly an API (/api/..., /graphql, /v1/...). A browser page URL without a method is a page,
    not an endpoint, and gives "".
    """
    verb = method.strip().upper() if isinstance(method, str) else ""
    verb = verb if verb in HTTP_METHODS else ""
    name = transaction.strip() if isinstance(transaction, str) else ""
    match = _ENDPOINT.match(name)
    if match:
        return f"{match.group(1).upper()} {page_path(match.group(2))}"
    if name.startswith("/"):
        return f"{verb} {page_path(name)}".strip() if verb or _API_PATH.search(name) else ""
    path = page_path(url) if isinstance(url, str) else ""
    if path and verb:
        return f"{verb} {path}"
    if path and _API_PATH.search(path):
        return path
    return ""
