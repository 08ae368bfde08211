"""Which network addresses the fetcher may connect to (the SSRF guard).

Feeds are untrusted: a feed URL, a redirect or a DNS answer can point at the metadata
service (169.254.169.254), the loopback interface or the office network.  We resolve the
host ourselves, refuse when ANY address is non-public (a hostile DNS server can mix a
public and a private answer), and hand back the one address the caller must connect to,
so no second lookup can return something else (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from fnmatch import fnmatchcase

from pipeline.models import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# getaddrinfo has no timeout of its own: run it in a small pool and stop waiting.
_DNS_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newsflow-dns")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_blocked(ip: IPAddress) -> bool:
    """True for every address that is not plainly public unicast."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            if is_blocked(inner):
                return True
            if ip.ipv4_mapped:
                return False  # a public IPv4 address written in mapped form
    elif ip in _CGNAT:
        return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class Target:
    """Where to connect for a host: a checked address and the port to use."""

    ip: IPAddress
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.ip}]" if self.ip.version == 6 else str(self.ip)
        return f"{host}:{self.port}"


def parse_resolve(mapping: dict[str, str]) -> list[tuple[str, Target]]:
    """``{"*.example": "127.0.0.1:8765"}`` -> [(pattern, Target)]; raises ValueError."""
    out = []
    for pattern, target in mapping.items():
        addr, sep, port = target.strip().rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"resolve target {target!r} for {pattern!r} is not addr:port")
        try:
            ip = ipaddress.ip_address(addr.strip("[]"))
        except ValueError:
            raise ValueError(
                f"resolve target {target!r} for {pattern!r}: not an IP address"
            ) from None
        out.append((pattern.lower(), Target(ip, int(port))))
    return out


def _resolve_dns(host: str, port: int, timeout: float) -> list[IPAddress]:
    future = _DNS_POOL.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise FetchError(f"DNS lookup for {host} timed out", "timeout") from None
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"DNS lookup for {host} failed: {exc}", "dns_failed") from None
    addrs: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addrs:
            addrs.append(ip)
    if not addrs:
        raise FetchError(f"DNS lookup for {host} returned no address", "dns_failed")
    return addrs


def parse_networks(value: str | None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``"10.1.0.0/16, 127.0.0.1"`` -> networks the operator explicitly allows."""
    out = []
    for part in (value or "").split(","):
        if part.strip():
            out.append(ipaddress.ip_network(part.strip(), strict=False))
    return out


def choose_target(
    host: str,
    port: int,
    *,
    resolve: list[tuple[str, Target]],
    allow_private: bool,
    timeout: float,
    allow_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
) -> Target:
    """Resolve ``host`` (IP literal, ``resolve`` override, or DNS) and apply the guard."""
    host = host.lower().rstrip(".")
    override = next((t for pattern, t in resolve if fnmatchcase(host, pattern)), None)
    if override is not None:
        addrs, port = [override.ip], override.port
    else:
        try:
            addrs = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            addrs = _resolve_dns(host, port, timeout)
    if not allow_private:
        allowed = allow_networks or []
        bad = [
            str(a)
            for a in addrs
            if is_blocked(a) and not any(a.version == n.version and a in n for n in allowed)
        ]
        if bad:
            raise FetchError(
                f"{host} resolves to non-public address {', '.join(bad)}", "blocked_address"
            )
    return Target(addrs[0], port)
