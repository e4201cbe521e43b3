"""Links between hosts: the public site and each organization's subdomain."""

from __future__ import annotations

from django.conf import settings


def _port_suffix() -> str:
    return f":{settings.ARGUS_PUBLIC_PORT}" if settings.ARGUS_PUBLIC_PORT else ""


def tenant_host(slug: str) -> str:
    return f"{slug}.{settings.ARGUS_BASE_DOMAIN}"


def tenant_url(slug: str, path: str = "/") -> str:
    return f"{settings.ARGUS_PUBLIC_SCHEME}://{tenant_host(slug)}{_port_suffix()}{path}"


def public_url(path: str = "/") -> str:
    return f"{settings.ARGUS_PUBLIC_SCHEME}://{settings.ARGUS_BASE_DOMAIN}{_port_suffix()}{path}"
