"""Outbound HTTP to addresses users choose (webhooks), without letting them aim the platform at
its own network (docs/reliability.md S1–S5).

A URL is allowed when its scheme is http(s), it has no credentials, and every address its host
resolves to is public. The check runs when the URL is set and again before every delivery, and
the connection then goes to the address that was checked (a DNS answer that changes between the
check and the connect cannot redirect it). Redirects are never followed; connect and total time
are bounded; the remote body is never read into anything we store or show.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from sebenzai.common.errors import DomainError

CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MAX_URL_LENGTH = 2000
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlNotAllowed(DomainError):
    def __init__(self, reason: str, field: str = "url") -> None:
        super().__init__(code="url_not_allowed", field=field, message=f"URL not allowed: {reason}.")


class DeliveryError(Exception):
    """A delivery that did not get an HTTP answer; ``reason`` is our own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection must go to


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """IPv4 hidden inside an IPv6 address (mapped, 6to4, NAT64, compatible): the stdlib calls
    some of these global even when the IPv4 inside is loopback (checked on this machine)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_public(ip: IPAddress) -> bool:
    """True for an address on the public internet; false for loopback, private, link-local
    (cloud metadata), shared (100.64/10), multicast, reserved and unspecified addresses."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return address_public(inner)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal, in any form, resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def _parts(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or any(c in url for c in "\r\n\t "):
        raise UrlNotAllowed("not a well-formed URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed("not a well-formed URL") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlNotAllowed("scheme not allowed, use http or https")
    if parts.username is not None or parts.password is not None:
        raise UrlNotAllowed("credentials in the URL are not allowed")
    if not parts.hostname:
        raise UrlNotAllowed("no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def url_target(url: str, *, allow_private: bool, field: str = "url") -> Target:
    """Check ``url`` and resolve it; raise UrlNotAllowed, or return where to connect."""
    scheme, host, port, path = _parts(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UrlNotAllowed("the host does not resolve", field) from exc
    if not addresses:
        raise UrlNotAllowed("the host does not resolve", field)
    if not allow_private and not all(address_public(ipaddress.ip_address(a)) for a in addresses):
        raise UrlNotAllowed("the host resolves to a non-public address", field)
    return Target(scheme, host, port, path, addresses[0])


def _connection(target: Target) -> http.client.HTTPConnection:
    cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = cls(target.host, target.port, timeout=CONNECT_TIMEOUT)

    def connect_pinned(address, timeout=None, source_address=None):  # noqa: ARG001
        # http.client's own hook: the socket goes to the checked IP; TLS still verifies the
        # certificate against the host name.
        return socket.create_connection((target.address, target.port), timeout, source_address)

    connection._create_connection = connect_pinned  # type: ignore[attr-defined]
    return connection


def http_post(target: Target, *, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to the checked target and return the HTTP status (never following a
    redirect, never reading the body). Raises DeliveryError."""
    connection = _connection(target)
    expired = threading.Event()
    watchdog = threading.Timer(TOTAL_TIMEOUT, _abort, args=(connection, expired))
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    except TimeoutError as exc:
        raise DeliveryError("timed out") from exc
    except ssl.SSLError as exc:
        raise DeliveryError("TLS handshake failed") from exc
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise DeliveryError("timed out") from exc
        broken = isinstance(exc, http.client.HTTPException)
        raise DeliveryError("malformed response" if broken else "connection failed") from exc
    finally:
        watchdog.cancel()
        connection.close()


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """Past the total deadline: shut the socket so a dripping server cannot hold the worker."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
