"""Which addresses an outgoing request may connect to: the guard against SSRF.

A feed URL (and, later, a WebSub callback) is typed by someone else, so
without a check it could make the server fetch from itself, its private
network or a cloud metadata endpoint (server-side request forgery, OWASP
A10:2021). Unless the config allows it, no connection is made to a
loopback, private, link-local, multicast, reserved or otherwise
non-public address (the special-purpose registries of RFC 6890).

An address has many spellings: ``127.1``, ``2130706433``, ``0x7f000001``,
``0177.0.0.1`` and ``[::ffff:7f00:1]`` all reach 127.0.0.1 through
``inet_aton``/``getaddrinfo``, and whether the HTTP library refuses them
depends on its version. So :func:`normalise_host` reads every spelling
the way ``inet_aton`` and the WHATWG URL host parser do, and the guard
decides on the address itself, three times over:

1. the URL's host, before any connection (:meth:`AddressPolicy.check_host`,
   on every redirect hop): a literal address in any spelling;
2. every address a name resolves to (:class:`GuardedResolver`, the
   connector's resolver, so a host that resolves to a public address for a
   pre-check and to 127.0.0.1 a moment later gains nothing);
3. the peer address of the socket actually connected to
   (:class:`GuardedConnector`), before a byte of the request is sent.

Public API:

* :func:`normalise_host` -- the address a host spells, or the name for DNS;
* :func:`address_refusal` -- why one address is not public, or None;
* :class:`AddressPolicy` -- that rule, with specific networks exempted;
* :class:`GuardedResolver` -- an aiohttp resolver that only returns
  addresses the policy allows;
* :class:`GuardedConnector` -- an aiohttp connector that checks the peer;
* :class:`AddressRefusedError` -- what they raise, with a sentence saying
  which host, which address and why.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from urllib.parse import unquote

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import Connection

if TYPE_CHECKING:
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = [
    "ALLOW_HINT",
    "Address",
    "AddressPolicy",
    "AddressRefusedError",
    "GuardedConnector",
    "GuardedResolver",
    "Network",
    "NumericHostError",
    "address_refusal",
    "normalise_host",
]

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: How an editor lifts the policy, appended to every refusal.
ALLOW_HINT: Final = "set [fetcher] allow_private_addresses = true to allow it"

# NAT64 (RFC 6052) embeds an IPv4 address; on IPv6-only networks every
# IPv4-only site resolves into it, so judge the embedded address instead.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

#: Special ranges that ``ipaddress`` (3.11) calls global or names vaguely.
_NAMED: Final[tuple[tuple[Network, str], ...]] = tuple(
    (ipaddress.ip_network(net), kind)
    for net, kind in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("192.0.2.0/24", "a documentation address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fec0::/10", "a site-local address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

# Dots as IDNA (UTS 46) maps them: ideographic, fullwidth and halfwidth full stops.
_DOTS: Final = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


class NumericHostError(ValueError):
    """A host that is numeric (it ends in a number) yet spells no address: ``256.1.1.1``."""


def _ipv4_number(part: str) -> int | None:
    """One part of a numeric IPv4 host: decimal, octal (leading 0) or hex (0x); else None."""
    if part[:2] in ("0x", "0X"):
        digits, base, allowed = part[2:], 16, "0123456789abcdefABCDEF"
    elif len(part) > 1 and part[0] == "0":
        digits, base, allowed = part[1:], 8, "01234567"
    else:
        digits, base, allowed = part, 10, "0123456789"
    if not part or not all(ch in allowed for ch in digits):
        return None
    if base == 10 and len(digits) > 10:  # out of range; and int() refuses 4300+ digits
        return 1 << 32
    return int(digits, base) if digits else 0


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of ``a``, ``a.b``, ``a.b.c`` or ``a.b.c.d`` (WHATWG / inet_aton), or None.

    None means the host does not end in a number, so it is a name. A host
    that does but spells no address raises :class:`NumericHostError`.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot, as in an absolute name
    if not parts[-1] or _ipv4_number(parts[-1]) is None:
        return None
    numbers = [n for part in parts if (n := _ipv4_number(part)) is not None]
    if len(parts) > 4 or len(numbers) < len(parts):
        raise NumericHostError(f"{host} ends in a number but is not an IPv4 address")
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(parts)):
        raise NumericHostError(f"{host} is out of the range of IPv4 addresses")
    value = last
    for i, n in enumerate(leading):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def normalise_host(host: str) -> Address | str:
    """The address ``host`` spells in any form, or ``host`` unchanged if it is a name.

    Read as ``inet_aton``, ``getaddrinfo`` and the WHATWG URL parser read
    it: percent-encoding and fullwidth characters decoded, one trailing dot
    dropped, 1 to 4 dotted parts each decimal, octal or hex (``127.1``,
    ``0x7f000001``, ``0177.0.0.1``, ``2130706433``); IPv6 with or without
    brackets, its zone id (``fe80::1%eth0``) dropped. A host that ends in a
    number but spells no address (``256.1.1.1``, ``4294967296``,
    ``1.2.3.4.5``) raises :class:`NumericHostError` rather than go to DNS.
    """
    text = host
    for _ in range(4):  # %2531 is %31 to a second decoder, and 1 to a third
        if "%" not in text or (decoded := unquote(text)) == text:
            break
        text = decoded
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_DOTS)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:  # no name has a colon: IPv6 or nothing
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise NumericHostError(f"{host} is not a valid IPv6 address") from None
    if not text.isascii():
        return host
    address = _ipv4(text)
    return host if address is None else address


def address_refusal(address: str | Address) -> str | None:
    """Why an address must not be fetched from ("a loopback address"), or None if public.

    ``ipaddress``'s ``is_global`` alone is not enough on Python 3.11: it calls
    224.0.0.1, ff02::1 and fec0::1 global, and it judges ``::ffff:127.0.0.1``
    by its IPv6 form although the kernel connects it to 127.0.0.1. So
    addresses that carry an IPv4 address (mapped, NAT64, 6to4) are judged by
    that address (an IPv4-compatible ``::a.b.c.d`` is reserved whatever it
    carries), and each special kind is named, so the error says what it is.
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
    for net, kind in _NAMED:
        if net.version == ip.version and ip in net:
            return kind
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "a non-public address"
    return None


class AddressRefusedError(OSError):
    """A host the policy forbids; an OSError so aiohttp passes it through as a connector failure.

    ``text`` is the sentence to show ("intranet.example resolves to
    10.0.0.7, a private address; set ..."); ``host`` is what was asked for,
    ``address`` the refused address, ``kind`` what :func:`address_refusal`
    said; ``how`` links them when they differ ("resolves to", "stands for",
    "connected to"). ``hint`` False leaves out :data:`ALLOW_HINT`, for hosts
    the config cannot allow.
    """

    def __init__(
        self, host: str, address: str, kind: str, *, how: str = "resolves to", hint: bool = True
    ) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        text = f"{host} is {kind}" if host == address else f"{host} {how} {address}, {kind}"
        if hint:
            text += f"; {ALLOW_HINT}"
        super().__init__(None, text)
        self.text = text


class AddressPolicy:
    """Public addresses only, except for the ``allowed`` networks (say, one internal feed host)."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed

    def refusal(self, address: str | Address) -> str | None:
        """Why ``address`` (any spelling) is refused, or None; ``allowed`` networks are exempt."""
        if isinstance(address, str):
            try:
                ip = normalise_host(address)
            except NumericHostError:
                return "not a valid address"
            if isinstance(ip, str):
                return "not an IP address"
        else:
            ip = address
        if any(ip in net for net in self.allowed if net.version == ip.version):
            return None
        return address_refusal(ip)

    def check_host(self, host: str) -> None:
        """Raise :class:`AddressRefusedError` if ``host`` spells an address the policy refuses.

        A name passes here: names are checked when they are resolved, by
        :class:`GuardedResolver`, and again on connect by :class:`GuardedConnector`.
        """
        try:
            ip = normalise_host(host)
        except NumericHostError:
            raise AddressRefusedError(
                host,
                host,
                "a numeric host that spells no IPv4 or IPv6 address, so it is not looked up",
                hint=False,
            ) from None
        if isinstance(ip, str):
            return
        kind = self.refusal(ip)
        if kind is not None:
            shown = str(ip)
            same = host.strip("[]").split("%", 1)[0].lower() == shown
            raise AddressRefusedError(host, host if same else shown, kind, how="stands for")

    def check_peer(self, host: str, peername: object) -> None:
        """Raise :class:`AddressRefusedError` unless ``peername`` (a socket's) is allowed.

        A peer that cannot be told (no address on the transport) is refused too.
        """
        address = peername[0] if isinstance(peername, tuple) and peername else None
        if not isinstance(address, str):
            raise AddressRefusedError(
                host, "an unknown address", "which cannot be checked", how="connected to"
            )
        kind = self.refusal(address)
        if kind is not None:
            raise AddressRefusedError(host, address.split("%", 1)[0], kind, how="connected to")


class GuardedResolver(AbstractResolver):
    """A resolver that returns only public addresses, so only those are connected to.

    aiohttp connects to exactly what the connector's resolver returns (and
    caches that), so filtering here closes the gap a separate pre-check
    would leave open to DNS rebinding. Addresses that are refused are
    dropped; if none is left, the lookup fails with ``AddressRefusedError``,
    which names the first refused address and why. A host that is itself
    an address in some spelling is judged as that address first.
    """

    def __init__(
        self,
        inner: AbstractResolver,
        allowed: tuple[Network, ...] = (),
        *,
        policy: AddressPolicy | None = None,
    ) -> None:
        self._inner = inner
        self.policy = policy if policy is not None else AddressPolicy(allowed)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` is refused, or None (see :meth:`AddressPolicy.refusal`)."""
        return self.policy.refusal(address)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.policy.check_host(host)
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


class GuardedConnector(aiohttp.TCPConnector):
    """A TCP connector that checks the peer of every connection before it is used.

    The resolver decided which addresses may be dialled; this checks the one
    the socket actually reached (``peername`` of its transport), whatever the
    HTTP library did in between (a literal host it never resolved, a spelling
    it passed to ``getaddrinfo``, a pooled connection). A refused connection is
    closed before the request is written, and the request fails with a
    ``ClientConnectorError`` whose ``os_error`` is the ``AddressRefusedError``
    (not retried by aiohttp). For https the check follows the TLS handshake.
    """

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        try:
            self.policy.check_peer(req.url.raw_host or "", peer)
        except AddressRefusedError as refused:
            connection.close()
            raise aiohttp.ClientConnectorError(req.connection_key, refused) from None
        return connection
