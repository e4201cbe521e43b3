"""Who is acting and from where, for the request (or task) being handled.

Set once by middleware so that services can audit a write without every caller threading
the IP address through.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    api_key_prefix: str | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("argus_request_context", default=None)


def current_request_context() -> RequestContext:
    return _current.get() or _EMPTY


def set_request_context(context: RequestContext):
    return _current.set(context)


def reset_request_context(token) -> None:
    _current.reset(token)
