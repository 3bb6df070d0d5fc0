"""Which reverse proxies poll believes about the client's address and scheme.

A proxy in front of poll (nginx, a load balancer) reaches it from its own
address and says who the client was in `X-Forwarded-For`, and whether the
client used HTTPS in `X-Forwarded-Proto`. Anybody can send those headers, so
they count only when the connection comes from an address the operator named
(`--proxy-ips` / `POLL_PROXY_IPS`); by default none is named and the headers
are ignored. The join throttle keys on the client's address, so a header
believed from the wrong peer would let a guesser pose as a new phone with
every request.
"""

from __future__ import annotations

import ipaddress
from typing import Any


class ProxyIpsError(ValueError):
    """A proxy address that is neither an IP address nor a network."""


def parse_proxy_ips(raw: str) -> tuple[str, ...]:
    """`"127.0.0.1, 10.0.0.0/8"` → `("127.0.0.1", "10.0.0.0/8")`, each checked.

    Written the way uvicorn reads them (addresses, networks with `/`), and
    normalised (`::0001` → `::1`, `10.1.2.3/8` → `10.0.0.0/8`). uvicorn would
    take a typo as a literal that never matches; poll refuses to start instead.
    """
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            raise ProxyIpsError(
                "'*' would believe forwarded headers from anybody; name the proxy's "
                "address (for example 127.0.0.1) or its network (10.0.0.0/24)"
            )
        try:
            if "/" in item:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            else:
                found.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ProxyIpsError(
                f"{item!r} is not an IP address or network (like 127.0.0.1, ::1 or 10.0.0.0/24)"
            ) from None
    return tuple(dict.fromkeys(found))


def uvicorn_proxy_options(proxy_ips: tuple[str, ...]) -> dict[str, Any]:
    """uvicorn's options for these proxies. With none, its proxy-headers middleware
    stays out entirely: its own default would believe 127.0.0.1 and ::1."""
    return {"proxy_headers": bool(proxy_ips), "forwarded_allow_ips": list(proxy_ips)}
