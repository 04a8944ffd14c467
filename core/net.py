"""Who is the client, and is an address private to this machine?

Shared by the chat channel (rate limit per client) and the console (login
throttling per client), so that both count the same address.

A header such as ``X-Forwarded-For`` can be written by anyone; it is believed
only when ``PCN_TRUSTED_PROXY_HEADER`` names it, i.e. when the operator says a
reverse proxy in front of the desk sets it. Then the **last** address of the
header is taken: the one the trusted proxy appended (earlier entries come from
the client and may be forged).
"""
from __future__ import annotations

import ipaddress
from typing import Mapping, Optional

from core import settings

UNKNOWN_CLIENT = "unknown"


def trusted_proxy_header(environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    header = settings.get("PCN_TRUSTED_PROXY_HEADER", dict(environ) if environ is not None else None)
    return header.strip().lower() if header else None


def client_address(peer: Optional[str], headers: Mapping[str, str],
                   environ: Optional[Mapping[str, str]] = None) -> str:
    """The client's address: the trusted proxy header when configured and present, else the peer."""
    header = trusted_proxy_header(environ)
    if header:
        lowered = {str(k).lower(): v for k, v in headers.items()}
        value = lowered.get(header)
        if value:
            last = str(value).split(",")[-1].strip()
            if last:
                return last[:64]
    return (peer or UNKNOWN_CLIENT)[:64]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost" (a server there is reachable from this machine only)."""
    host = (host or "").strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
