"""Fingerprints: which events are the same error.

In order of trust: the tracker's own fingerprint (it saw every occurrence), a hash of the exception type
and the normalized in-app stack frames (the code path is the error's identity; line numbers, release
folders, bundle hashes and minified names change from one deploy to the next, so they are stripped), and
last the exception type with a normalized message and the component / API endpoint (numbers, ids, hex,
UUIDs, e-mails, query values and quoted strings become placeholders, so "Order 1234 not found" and
"Order 98 not found" are one error).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from apps.production_events.models import GroupingMethod

# The frames a stack hash and a group keep: the innermost ones say most about the error.
MAX_FRAMES = 30
MAX_MESSAGE_CHARS = 1000


class GroupableEvent(Protocol):
    """What grouping reads of a normalizers.NormalizedEvent."""

    exception_type: str
    message: str
    title: str
    stack_trace: list[dict[str, Any]]
    tracker_fingerprint: str


_UUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
# One pass, most specific first: a UUID must not be eaten as hex, an e-mail not as words.
_MESSAGE_PATTERN = re.compile(
    r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    rf"|(?P<uuid>\b{_UUID}\b)"
    r"|(?P<query>(?<=[?&])[\w.\[\]-]+=[^&\s'\"]*)"
    r"|(?P<quoted>\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|`[^`\n]{0,200}`)"
    r"|(?P<hex>\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b)"
    r"|(?P<number>\b\d+(?:[.,]\d+)*(?:[a-z]{1,3}\b)?)"
    r"|(?P<id>\b(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]+\b)"
    r"|(?P<digits>\d+)",
    re.IGNORECASE,
)
_PLACEHOLDERS = {"email": "<email>", "uuid": "<uuid>", "quoted": "<str>", "hex": "<hex>", "id": "<id>",
                 "number": "<n>", "digits": "<n>"}
_SPACES = re.compile(r"\s+")


def _placeholder(match: re.Match) -> str:
    kind = match.lastgroup or "number"
    if kind == "query":
        return match.group(0).split("=", 1)[0] + "=<v>"
    return _PLACEHOLDERS[kind]


def normalize_message(text: str) -> str:
    """The message with everything that varies between occurrences of one error replaced by placeholders."""
    if not text:
        return ""
    text = text[:MAX_MESSAGE_CHARS]
    return _SPACES.sub(" ", _MESSAGE_PATTERN.sub(_placeholder, text)).strip()


# Frame paths: scheme and host, query and fragment, release / version folders, bundle hashes.
_URL_PREFIX = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
_QUERY = re.compile(r"[?#].*$")
_VERSION_SEGMENT = re.compile(r"(?:^|/)(?:v?\d+(?:[._-]\d+)+[\w.-]*|\d{6,}|[0-9a-f]{7,40}|releases?|builds?)(?=/)",
                              re.IGNORECASE)
_PACKAGE_VERSION = re.compile(r"@\d+(?:\.\d+)*[\w.-]*")
_FILE_HASH = re.compile(r"([._-])(?=[0-9a-z]*\d)(?=[0-9a-z]*[a-z])[0-9a-z]{6,}(?=\.(?:m?js|css|map|jsx?|tsx?)$)",
                        re.IGNORECASE)
_LINE_SUFFIX = re.compile(r"(?::\d+)+$")
_SITE_PACKAGES = re.compile(r"^.*?/(?:site|dist)-packages/")
_NODE_MODULES = re.compile(r"^.*/node_modules/")
_PYTHON_EXT = re.compile(r"\.py[cw]?$")
_ANONYMOUS = {"", "?", "<anonymous>", "anonymous", "<lambda>", "<module>", "<unknown>", "null", "undefined"}


def _normalize_path(path: str) -> str:
    path = _QUERY.sub("", _URL_PREFIX.sub("", path.strip()))
    path = _LINE_SUFFIX.sub("", path.replace("\\", "/"))
    path = _SITE_PACKAGES.sub("", path)
    path = _NODE_MODULES.sub("node_modules/", path)
    path = _PACKAGE_VERSION.sub("", path)
    path = _VERSION_SEGMENT.sub("", path)
    path = _FILE_HASH.sub("", path)
    # Absolute deploy roots differ between machines; the last three parts name the file in the app.
    parts = [part for part in path.split("/") if part and part != "."]
    return "/".join(parts[-3:])


def _normalize_function(name: str) -> str:
    name = (name or "").strip()
    # "Object.<anonymous>", "async t", "n/<" and 1-2 letter names are what minifiers and engines make up.
    name = re.sub(r"^(?:async |new )", "", name)
    name = re.sub(r"\.?<anonymous>$|[/<]+$", "", name)
    if name.lower() in _ANONYMOUS or len(name.rsplit(".", 1)[-1]) <= 2:
        return "?"
    return name


def frame_name(frame: Mapping[str, Any]) -> str:
    """'module:function' of one frame, stable across deploys (no lines, versions, hashes)."""
    module = str(frame.get("module") or "").strip()
    if module and "/" not in module and "\\" not in module:
        module = _PACKAGE_VERSION.sub("", module)
    else:
        module = _normalize_path(module or str(frame.get("filename") or frame.get("abs_path") or ""))
        module = _PYTHON_EXT.sub("", module)
    return f"{module or '?'}:{_normalize_function(str(frame.get('function') or ''))}"


def in_app_frame_names(stack_trace: Iterable[Mapping[str, Any]]) -> list[str]:
    """The normalized in-app frames, innermost last; all frames when none is marked in-app. Consecutive
    repeats (recursion) count once."""
    frames = [frame for frame in stack_trace if isinstance(frame, Mapping)]
    chosen = [frame for frame in frames if frame.get("in_app")] or frames
    names: list[str] = []
    for frame in chosen:
        name = frame_name(frame)
        if name != "?:?" and (not names or names[-1] != name):
            names.append(name)
    return names[-MAX_FRAMES:]


def _sha256(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def group_key(event: GroupableEvent, source: str = "") -> tuple[str, GroupingMethod, list[str]]:
    """(fingerprint, method, in_app_frames) of an event. `source` namespaces tracker fingerprints: two
    trackers' keys are unrelated even when they look alike."""
    frames = in_app_frame_names(event.stack_trace or [])
    if event.tracker_fingerprint:
        return _sha256("tracker", source, event.tracker_fingerprint), GroupingMethod.TRACKER, frames
    exception_type = (event.exception_type or "").strip()
    if frames:
        return _sha256("stack", exception_type, *frames), GroupingMethod.STACK, frames
    message = normalize_message(event.message or event.title or "")
    # Without a stack, where it broke is part of what it is: "Field 'email' is required" in the signup form
    # and in the settings form are two bugs.
    place = (getattr(event, "component", "") or "", getattr(event, "api_endpoint", "") or "")
    return _sha256("message", exception_type, message, *place), GroupingMethod.MESSAGE, frames
