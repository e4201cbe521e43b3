"""Login lockout: LOGIN_LOCKOUT_FAILURES failures lock the account, and the client IP, for
LOGIN_LOCKOUT_SECONDS. Counters live in Redis (the platform cache), shared by every web
process, and expire on their own."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches


def _cache():
    return caches["platform"]


def _keys(email: str, ip: str | None) -> list[str]:
    # Hash the address so that no e-mail sits in Redis in clear text.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = [f"lockout:account:{account}"]
    if ip:
        keys.append(f"lockout:ip:{ip}")
    return keys


def is_locked_out(email: str, ip: str | None) -> bool:
    counts = _cache().get_many(_keys(email, ip))
    return any(count >= settings.LOGIN_LOCKOUT_FAILURES for count in counts.values())


def record_failure(email: str, ip: str | None) -> None:
    cache = _cache()
    for key in _keys(email, ip):
        # add() starts the window; incr() keeps its expiry, so the lock lifts on time.
        if not cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def clear_account(email: str) -> None:
    # A success clears the account's counter only: an IP that guesses at many accounts stays locked.
    _cache().delete(_keys(email, None)[0])
