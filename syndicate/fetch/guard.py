"""Which addresses an outgoing request may connect to: the guard against SSRF.

A feed URL (and, later, a WebSub callback) is typed by someone else, so
without a check it could make the server fetch from itself, its private
network or a cloud metadata endpoint (server-side request forgery, OWASP
A10:2021). Unless the config allows it, no connection is made to a
loopback, private, link-local, multicast, reserved or otherwise
non-public address (the special-purpose registries of RFC 6890).

The check lives in the connector's resolver (:class:`GuardedResolver`), so
the address checked is the address connected to: a host that resolves to
a public address for a pre-check and to 127.0.0.1 a moment later (DNS
rebinding) gains nothing. aiohttp skips the resolver for a literal IP
host, so callers check those themselves with
:meth:`AddressPolicy.check_literal` before each request (every redirect
hop included).

Public API:

* :func:`address_refusal` -- why one address is not public, or None;
* :class:`AddressPolicy` -- that rule, with specific networks exempted;
* :class:`GuardedResolver` -- an aiohttp resolver that only returns
  addresses the policy allows;
* :class:`AddressRefusedError` -- what both raise, with a sentence saying
  which host, which address and why.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Final, TypeAlias

from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = [
    "ALLOW_HINT",
    "Address",
    "AddressPolicy",
    "AddressRefusedError",
    "GuardedResolver",
    "Network",
    "address_refusal",
]

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: How an editor lifts the policy, appended to every refusal.
ALLOW_HINT: Final = "set [fetcher] allow_private_addresses = true to allow it"

# NAT64 (RFC 6052) embeds an IPv4 address; on IPv6-only networks every
# IPv4-only site resolves into it, so judge the embedded address instead.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: str | Address) -> str | None:
    """Why an address must not be fetched from ("a loopback address"), or None if public.

    ``ipaddress``'s ``is_global`` alone is not enough on Python 3.11: it calls
    224.0.0.1 and ff02::1 global, and it judges ``::ffff:127.0.0.1`` by its
    IPv6 form although the kernel connects it to 127.0.0.1. So addresses that
    carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address,
    and each special kind is named, so the error says what the address is.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _literal_ip(host: str) -> Address | None:
    """The address a host names literally (an IPv6 zone dropped), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


class AddressRefusedError(OSError):
    """A host the policy forbids; an OSError so aiohttp passes it through as a DNS failure.

    ``text`` is the sentence to show ("intranet.example resolves to
    10.0.0.7, a private address; set ..."); ``host`` is what was asked for,
    ``address`` the refused address, ``kind`` what :func:`address_refusal` said.
    """

    def __init__(self, host: str, address: str, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        if host == address:
            text = f"{host} is {kind}; {ALLOW_HINT}"
        else:
            text = f"{host} resolves to {address}, {kind}; {ALLOW_HINT}"
        super().__init__(None, text)
        self.text = text


class AddressPolicy:
    """Public addresses only, except for the ``allowed`` networks (say, one internal feed host)."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed

    def refusal(self, address: str | Address) -> str | None:
        """Why ``address`` is refused, or None; ``allowed`` networks are exempt."""
        ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
        if any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        return address_refusal(ip)

    def check_literal(self, host: str) -> None:
        """Raise :class:`AddressRefusedError` if ``host`` is an IP address the policy refuses.

        A host name passes here: names are checked when they are resolved,
        by :class:`GuardedResolver`.
        """
        if _literal_ip(host) is None:
            return
        kind = self.refusal(host)
        if kind is not None:
            raise AddressRefusedError(host, host, kind)


class GuardedResolver(AbstractResolver):
    """A resolver that returns only public addresses, so only those are connected to.

    aiohttp connects to exactly what the connector's resolver returns (and
    caches that), so filtering here closes the gap a separate pre-check
    would leave open to DNS rebinding. Addresses that are refused are
    dropped; if none is left, the lookup fails with ``AddressRefusedError``,
    which names the first refused address and why.
    """

    def __init__(self, inner: AbstractResolver, allowed: tuple[Network, ...] = ()) -> None:
        self._inner = inner
        self.policy = AddressPolicy(allowed)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` is refused, or None (see :meth:`AddressPolicy.refusal`)."""
        return self.policy.refusal(address)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = []
        first_refused: tuple[str, str] | None = None
        for result in results:
            kind = self.refusal(result["host"])
            if kind is None:
                kept.append(result)
            elif first_refused is None:
                first_refused = (result["host"], kind)
        if not kept:
            if first_refused is None:
                raise OSError(None, f"no address found for {host}")
            raise AddressRefusedError(host, *first_refused)
        return kept

    async def close(self) -> None:
        await self._inner.close()
