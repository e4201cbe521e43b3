"""Secrets out of everything a tracker sends, before it is stored or indexed.

    redact_text(text) -> text with each secret replaced by "[redacted:<kind>]"
    redact(value)     -> the same JSON tree, strings redacted, values under sensitive keys replaced whole

What is found: API keys (OpenAI / Anthropic sk-..., GitHub ghp_ / gho_ / github_pat_, Slack xox?-,
AWS access key ids, Stripe sk_ / rk_ / whsec_, Google AIza...), bearer credentials, JWTs, passwords in
URLs and connection strings (scheme://user:[redacted:password]@host), Sentry DSN keys, PEM private
keys, card numbers (Luhn-checked, so order numbers stay) and key=value / "key": "value" / header pairs
whose key names a secret (password, secret, token, api_key, authorization, cookie, session id, AWS
secret access key, ...).

Speed matters: intake runs this on every delivery (budget 0.2 ms for a few KB). Python's regex engine
is slow when one big case-insensitive alternation is tried at every position, so the scan is anchored
instead: every secret has a literal anchor ("sk-", "eyj", "token", "://", ...) found with str.find on
the lower-cased text (memchr speed), and only at those spots does a small pattern run. redact() does
this once over the payload's JSON text rather than string by string, and returns the payload itself,
uncopied, when nothing was found. Markers are never matched again, so redaction is idempotent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import orjson

MARKER = "[redacted:{}]"
_MARKER_PREFIX = "[redacted:"

# Dict keys / key=value names whose whole value is a secret, compared after normalize_key().
SENSITIVE_KEYS = {
    "password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "api_key", "apikey", "api_token",
    "access_token", "refresh_token", "id_token", "auth_token", "client_secret", "authorization",
    "proxy_authorization", "cookie", "cookies", "set_cookie", "session", "sessionid", "session_id",
    "session_token", "session_key", "csrftoken", "csrf_token", "csrfmiddlewaretoken", "xsrf_token", "x_api_key",
    "x_auth_token", "private_key", "secret_key", "aws_secret_access_key", "aws_session_token", "credentials",
    "jwt", "signature", "x_amz_signature", "x_amz_security_token", "webhook_secret", "dsn", "access_key",
}
_SENSITIVE_SUFFIXES = ("_password", "_passwd", "_secret", "_token", "_api_key", "_apikey", "_private_key",
                       "_secret_key", "_access_key", "_credentials", "_pwd")
_SENSITIVE_PREFIXES = ("password_", "passwd_", "secret_", "private_key_", "api_key_")
# Names that contain a secret's word but hold none.
_NOT_SECRET = re.compile(r"(?:_url|_uri|_link|_count|_length|_expires?(?:_at|_in)?|_type|_name|_id_hint|_reset"
                         r"|_hash|_page|_policy|_strength|_field|_label|_hint|_required|_enabled)$")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s.\-]+")


def normalize_key(key: str) -> str:
    """"X-Api-Key", "newPassword", "api.key" → "x_api_key", "new_password", "api_key"."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key.strip())).lower()


def sensitive_kind(key: Any) -> str:
    """The marker kind when `key` names a secret ("password", "cookie", "token", ...), else ""."""
    if not isinstance(key, str) or not key or len(key) > 80:
        return ""
    return _kind_of_name(key)


@functools.lru_cache(maxsize=4096)
def _kind_of_name(key: str) -> str:
    name = normalize_key(key)
    named = name.endswith(_SENSITIVE_SUFFIXES) or name.startswith(_SENSITIVE_PREFIXES)
    if name not in SENSITIVE_KEYS and (not named or _NOT_SECRET.search(name)):
        return ""
    if "pass" in name or name.endswith("pwd"):
        return "password"
    for word, kind in (("cookie", "cookie"), ("authorization", "authorization"), ("api_key", "api_key"),
                       ("apikey", "api_key"), ("session", "session"), ("csrf", "session"), ("xsrf", "session"),
                       ("signature", "signature"), ("dsn", "dsn"), ("private_key", "private_key")):
        if word in name:
            return kind
    if "token" in name or name == "jwt":
        return "token"
    return "secret"


# --- anchored scanners -------------------------------------------------------------------------------------
# Each scanner gets (text, lower, anchor position) and returns (start, end, replacement) or None.

Span = tuple[int, int, str]
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# After a key: optional closing quote, the separator, then the value: a quoted string (JSON escapes
# allowed), a JSON-escaped quoted string (\"...\"), or a bare value (an auth scheme may precede it).
_KV_REST = re.compile(
    r"(?P<close>\\*[\"']?)(?P<sep>\s*[:=]\s*)"
    r"(?P<value>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|\\+\"(?:[^\"\\]|\\+[^\"\\])*\\+\""
    r"|(?:(?:bearer|basic|token|digest|negotiate)\s+)?[^\s,;&\"'<>(){}\[\]\\]+)",
    re.IGNORECASE,
)
_STRING_OR_EMPTY = re.compile(r"\s*:\s*(?:\"|null\b|true\b|false\b|\[\]|\{\})")
_COOKIE_VALUE = re.compile(r"[^\"\\\r\n]+")
_BEARER = re.compile(r"bearer\s+(?P<value>[a-z0-9\-._~+/]{8,}=*)")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_API_KEYS = {
    "sk-": re.compile(r"sk-(?:ant-)?[A-Za-z0-9_-]{20,}"),
    "sk_": re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{16,}"),
    "rk_": re.compile(r"rk_(?:live|test)_[A-Za-z0-9]{16,}"),
    "whsec_": re.compile(r"whsec_[A-Za-z0-9+/=]{20,}"),
    "ghp_": re.compile(r"ghp_[A-Za-z0-9]{30,}"),
    "gho_": re.compile(r"gho_[A-Za-z0-9]{30,}"),
    "ghu_": re.compile(r"ghu_[A-Za-z0-9]{30,}"),
    "ghs_": re.compile(r"ghs_[A-Za-z0-9]{30,}"),
    "ghr_": re.compile(r"ghr_[A-Za-z0-9]{30,}"),
    "github_pat_": re.compile(r"github_pat_[A-Za-z0-9_]{40,}"),
    "xox": re.compile(r"xox[abprse]-[A-Za-z0-9-]{10,}"),
    "aiza": re.compile(r"AIza[0-9A-Za-z_-]{35}"),
}
_AWS_KEY_ID = re.compile(r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_PEM = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[^\"]*)")
_URL_END = re.compile(r"[/?#\s\"'<>\\]")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_CARD = re.compile(r"(?<![\w.-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w-])")
# Stems of the names _scan_pair checks with sensitive_kind() ("api" finds x-api-key, "pass" password).
_KEYWORDS = ("pass", "pwd", "secret", "token", "api", "auth", "cookie", "session", "csrf", "xsrf", "credential",
             "jwt", "signature", "private", "access", "dsn")
_CARD_SHAPES = (b"0000000000000", b"0000 0000 0000", b"0000 000000 00000")
_DIGIT_OR_SEPARATOR = frozenset(b"0 ")
_CARD_TABLE = bytes(ord("0") if chr(byte).isdigit() else ord(" ") if byte in b" -" else ord("x")
                    for byte in range(256))


def _word_start(lower: str, pos: int) -> bool:
    return pos == 0 or lower[pos - 1] not in _WORD_CHARS


def _scan_pair(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    start = pos
    while start > 0 and lower[start - 1] in _KEY_CHARS:
        start -= 1
    end = pos
    while end < len(lower) and lower[end] in _KEY_CHARS:
        end += 1
    key = text[start:end]
    kind = sensitive_kind(key)
    if not kind:
        return None
    quoted_key = start > 0 and text[start - 1] in "\"'"
    json_name = (quoted_key and text[start - 1] == '"' and (start < 2 or text[start - 2] != "\\")
                 and end < len(text) and text[end] == '"')
    if json_name and not _STRING_OR_EMPTY.match(text, end + 1):
        # A quoted name holding something other than a string (a JSON object, list or number), or the
        # name of a ["Cookie", "..."] / {"key": "token", "value": ...} pair: the tree pass replaces it.
        state.setdefault("names", set()).add(key)
    match = _KV_REST.match(text, end)
    if not match:
        return None
    value = match["value"]
    value_start = match.start("value")
    if quoted_key and match["close"] and value[:1] not in "\"'\\":
        # "password": null / 123 / true in JSON: not a string; the tree pass replaces it whole.
        return None
    if kind == "cookie" and value[:1] not in "\"'\\":
        # A Cookie header holds many name=value pairs, all secret: take the rest of the line.
        cookie = _COOKIE_VALUE.match(text, value_start)
        return (value_start, cookie.end(), MARKER.format(kind)) if cookie else None
    if value.startswith("\\"):
        # A JSON-escaped quoted value (\"...\" or deeper): the secret sits between the escaped quotes.
        opening = value.index('"') + 1
        inner_start, inner_end = value_start + opening, match.end("value") - opening
    elif value[:1] in "\"'":
        inner_start, inner_end = value_start + 1, match.end("value") - 1
    else:
        inner_start, inner_end = value_start, match.end("value")
    inner = text[inner_start:inner_end]
    if not inner or inner.startswith(_MARKER_PREFIX):
        return None
    return inner_start, inner_end, MARKER.format(kind)


def _scan_bearer(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    if not _word_start(lower, pos):
        return None
    match = _BEARER.match(lower, pos)
    if not match:
        return None
    value = match["value"]
    # "the bearer instrument" is prose: real tokens carry digits or symbols, or are long.
    if len(value) < 20 and value.isalpha():
        return None
    return match.start("value"), match.end("value"), MARKER.format("token")


def _scan_jwt(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    match = _JWT.match(text, pos) if _word_start(lower, pos) else None
    return (pos, match.end(), MARKER.format("jwt")) if match else None


def _api_key_scanner(pattern: re.Pattern[str]) -> Callable[..., Span | None]:
    def scan(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
        match = pattern.match(text, pos) if _word_start(lower, pos) else None
        return (pos, match.end(), MARKER.format("api_key")) if match else None
    return scan


def _scan_aws(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    match = _AWS_KEY_ID.match(text, pos) if _word_start(lower, pos) else None
    return (pos, match.end(), MARKER.format("aws_key")) if match else None


def _scan_pem(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    match = _PEM.match(text, pos)
    return (pos, match.end(), MARKER.format("private_key")) if match else None


def _scan_url(text: str, lower: str, pos: int, state: dict[str, Any]) -> Span | None:
    """scheme://user:password@host (URLs, database and broker connection strings) and DSN keys."""
    scheme_start = pos
    while scheme_start > 0 and lower[scheme_start - 1] in _SCHEME_CHARS:
        scheme_start -= 1
    if pos - scheme_start < 2 or not lower[scheme_start].isalpha():
        return None
    authority_start = pos + 3
    end_match = _URL_END.search(text, authority_start)
    authority_end = end_match.start() if end_match else len(text)
    at = text.rfind("@", authority_start, authority_end)
    if at == -1:
        return None
    userinfo = text[authority_start:at]
    if userinfo.startswith(_MARKER_PREFIX):
        return None
    colon = userinfo.find(":")
    if colon != -1:
        secret_start = authority_start + colon + 1
        password = text[secret_start:at]
        if not password or password.startswith(_MARKER_PREFIX):
            return None
        return secret_start, at, MARKER.format("password")
    if _HEX32.fullmatch(userinfo):
        return authority_start, at, MARKER.format("dsn")
    return None


_SCANNERS: dict[str, Callable[..., Span | None]] = {
    **{keyword: _scan_pair for keyword in _KEYWORDS},
    "bearer": _scan_bearer,
    "eyj": _scan_jwt,
    **{anchor: _api_key_scanner(pattern) for anchor, pattern in _API_KEYS.items()},
    **{prefix: _scan_aws for prefix in ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa")},
    "-----begin": _scan_pem,
    "://": _scan_url,
}
# One pass of plain literals over the lower-cased text finds every place worth a closer look; longer
# anchors first so "github_pat_" is not read as "gh...".
_ANCHOR = re.compile("|".join(re.escape(anchor) for anchor in sorted(_SCANNERS, key=len, reverse=True)))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = ord(char) - 48
        if index % 2:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def _card_spans(text: str, json_text: bool) -> list[Span]:
    """Luhn-valid card numbers, looked for only where a translate shows a long enough digit run. In JSON
    text a card that is a bare number token becomes a quoted marker, so the JSON stays valid."""
    shapes = text.encode("ascii", "replace").translate(_CARD_TABLE)
    spans: dict[int, Span] = {}
    for shape in _CARD_SHAPES:
        pos = shapes.find(shape)
        while pos != -1:
            start = pos
            while start > 0 and shapes[start - 1] in _DIGIT_OR_SEPARATOR:
                start -= 1
            for match in _CARD.finditer(text, start, min(len(text), pos + 40)):
                digits = match.group().replace(" ", "").replace("-", "")
                if 13 <= len(digits) <= 19 and _luhn_ok(digits):
                    bare = json_text and text[match.start() - 1:match.start()] in (":", ",", "[") and text[
                        match.end():match.end() + 1] in (",", "]", "}")
                    marker = f'"{MARKER.format("card")}"' if bare else MARKER.format("card")
                    spans[match.start()] = (match.start(), match.end(), marker)
            pos = shapes.find(shape, pos + len(shape))
    return list(spans.values())


def _find_spans(text: str, state: dict[str, Any], *, json_text: bool = False) -> list[Span]:
    lower = text.lower()
    if len(lower) != len(text):
        # Rare non-ASCII text whose lower case changes length: positions must line up.
        lower = "".join(char.lower() if char.isascii() else char for char in text)
    spans: list[Span] = []
    for match in _ANCHOR.finditer(lower):
        span = _SCANNERS[match.group()](text, lower, match.start(), state)
        if span:
            spans.append(span)
    spans.extend(_card_spans(text, json_text))
    return spans


def _apply(text: str, spans: list[Span]) -> str:
    """Replace the spans, earliest first, skipping any that overlap one already replaced."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    pieces = []
    last = 0
    for start, end, replacement in spans:
        if start < last:
            continue
        pieces.append(text[last:start])
        pieces.append(replacement)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """The text with every secret replaced by "[redacted:<kind>]"; all other characters unchanged."""
    if not text:
        return text
    spans = _find_spans(text, {})
    return _apply(text, spans) if spans else text


# --- JSON trees ----------------------------------------------------------------------------------------------

def _dumps(value: Any) -> str | None:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, ValueError, OverflowError):
        return None


def _loads(text: str) -> Any:
    return orjson.loads(text)


def redact(value: Any) -> Any:
    """A JSON tree with secrets removed: same structure (same keys, same list lengths), strings redacted,
    and the whole value replaced under a key that names a secret ({"password": ...}, a header pair
    ["Authorization", "..."], a {"key": "token", "value": ...} item). Returns `value` itself when nothing
    was found (no copy); the input is never changed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bool) or not isinstance(value, dict | list | int):
        return value
    if isinstance(value, int):
        text = str(value)
        return MARKER.format("card") if redact_text(text) != text else value
    text = _dumps(value)
    if text is None:
        return _redact_tree(value)
    state: dict[str, Any] = {}
    spans = _find_spans(text, state, json_text=True)
    result = value
    if spans:
        try:
            result = _loads(_apply(text, spans))
        except ValueError:
            # A replacement landed on JSON syntax (a bare card number in an odd spot): go string by string.
            return _redact_tree(value)
    if state.get("names"):
        result = _replace_under_sensitive_keys(result, state["names"])
    return result


def _replace_under_sensitive_keys(value: Any, names: set[str]) -> Any:
    """The tree with values under the secret-naming keys the text pass saw (`names`) replaced whole;
    strings are already redacted. Set lookups keep this walk cheap."""
    if isinstance(value, dict):
        named = "value" in value and ("key" in value or "name" in value)
        pair_name = value.get("key") or value.get("name") if named else None
        pair_kind = sensitive_kind(pair_name) if isinstance(pair_name, str) and pair_name in names else ""
        result = {}
        for key, item in value.items():
            kind = sensitive_kind(key) if key in names else (pair_kind if key == "value" else "")
            if kind and _is_filled(item):
                result[key] = _whole(item, kind)
            elif isinstance(item, dict | list):
                result[key] = _replace_under_sensitive_keys(item, names)
            else:
                result[key] = item
        return result
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and value[0] in names and _is_filled(value[1]):
            return [value[0], _whole(value[1], sensitive_kind(value[0]))]
        return [_replace_under_sensitive_keys(item, names) if isinstance(item, dict | list) else item
                for item in value]
    return value


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        named = "value" in value and ("key" in value or "name" in value)
        pair_kind = sensitive_kind(value.get("key") or value.get("name")) if named else ""
        result = {}
        for key, item in value.items():
            kind = sensitive_kind(key) or (pair_kind if key == "value" else "")
            result[key] = _whole(item, kind) if kind and _is_filled(item) else _redact_tree(item)
        return result
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and _is_filled(value[1]):
            kind = sensitive_kind(value[0])
            if kind:
                return [value[0], _whole(value[1], kind)]
        return [_redact_tree(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**12:
        text = str(value)
        return MARKER.format("card") if redact_text(text) != text else value
    return value


def _is_filled(value: Any) -> bool:
    return value not in (None, "", [], {}) and not isinstance(value, bool)


def _whole(value: Any, kind: str) -> Any:
    if isinstance(value, str) and value.startswith(_MARKER_PREFIX):
        return value
    return MARKER.format(kind)
