"""The SSRF guard: every spelling of an address, and the three checks, in-process.

Unit tests read hosts as ``inet_aton``/``getaddrinfo`` and browsers do; fetch
tests run the real ``Retriever`` (``allow_private_addresses = false``) against
aiohttp servers on loopback and count what those receive. Nothing leaves
loopback: the stub resolver answers loopback only, and the autouse ``connects``
fixture refuses (and fails the test on) a TCP connect to anything else.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from syndicate.config import FetcherConfig
from syndicate.fetch.guard import (
    ALLOW_HINT,
    AddressPolicy,
    AddressRefusedError,
    GuardedConnector,
    GuardedResolver,
    NumericHostError,
    normalise_host,
)
from syndicate.fetch.retrieve import Retriever
from syndicate.fetch.types import FetchError
from tests.outside_server import SAMPLE_RSS, Outside

pytestmark = pytest.mark.timeout(15)

# -- the normaliser -------------------------------------------------------------------

LOOPBACK_V4 = [
    *["127.0.0.1", "127.1", "127.0.1", "2130706433", "0x7f000001", "0X7F000001", "017700000001"],
    *["0177.0.0.1", "0177.1", "0x7f.1", "0x7f.0x0.0x0.0x1", "127.000.000.001", "0000177.0.0.01"],
    *["127.0.0.1.", "127.1."],  # a trailing dot
    *["%31%32%37.0.0.1", "%2531%2532%2537.1", "%32130706433"],  # percent-encoded, once or twice
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits, as IDNA maps them
    "127\u30020\u30020\u30021",  # ideographic full stops
]
LOOPBACK_V6 = [  # (spelling, address), IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 forms too
    *[("[::1]", "::1"), ("::1", "::1"), ("[0:0:0:0:0:0:0:1]", "::1")],
    *[(h, "::ffff:7f00:1") for h in ["[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "::FFFF:127.0.0.1"]],
    *[("[64:ff9b::127.0.0.1]", "64:ff9b::7f00:1"), ("[2002:7f00:1::]", "2002:7f00:1::")],
]


@pytest.mark.parametrize("host", LOOPBACK_V4)
def test_every_spelling_of_127_0_0_1(host: str):
    assert normalise_host(host) == ip_address("127.0.0.1")
    assert AddressPolicy().refusal(host) == "a loopback address"


@pytest.mark.parametrize(("host", "address"), LOOPBACK_V6)
def test_ipv6_spellings_of_loopback(host: str, address: str):
    assert normalise_host(host) == ip_address(address)
    assert AddressPolicy().refusal(host) == "a loopback address"


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.1"])
def test_spellings_the_old_guard_took_for_names(host: str):
    """``ipaddress`` refuses these, so the old literal check passed them on as names."""
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        ip_address(host)
    with pytest.raises(AddressRefusedError) as caught:
        AddressPolicy().check_host(host)
    assert caught.value.text == f"{host} stands for 127.0.0.1, a loopback address; {ALLOW_HINT}"


METADATA = [
    *["169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "0xa9.0xfe.0xa9.0xfe"],
    *["169.254.43518", "169.16689662", "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]"],
    *["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::"],  # NAT64 and 6to4: judged by the IPv4 inside
]


@pytest.mark.parametrize("host", METADATA)
def test_every_spelling_of_the_metadata_address(host: str):
    address = normalise_host(host)
    assert not isinstance(address, str)
    assert ip_address("169.254.169.254").packed in address.packed
    assert AddressPolicy().refusal(host) == "a link-local address"


NON_PUBLIC = [
    ("a private address", ["10.1", "012.0.0.1", "0xc0a80001", "3232235521", "172.16.1"]),
    ("a private address", ["fc00::1", "[fd12:3456::1]", "[64:ff9b::10.0.0.1]", "2002:a00:1::"]),
    ("a non-public address", ["100.64.0.1", "0x64400001"]),  # carrier-grade NAT
    ("the unspecified address", ["0", "0x0", "0.0.0.0", "::", "[::]"]),
    ("a 'this network' address", ["0.1.2.3"]),
    ("the broadcast address", ["255.255.255.255", "4294967295"]),
    ("a multicast address", ["3758096385", "224.0.0.1", "ff02::1"]),
    ("a reserved address", ["240.0.0.1", "::127.0.0.1"]),  # the second IPv4-compatible
    ("a documentation address", ["192.0.2.1", "2001:db8::1"]),
    ("a link-local address", ["fe80::1", "fe80::1%eth0", "[fe80::1%25eth0]"]),  # zone ids
    ("a site-local address", ["fec0::1"]),  # ipaddress calls it global
    ("a local-use NAT64 address", ["64:ff9b:1::a00:1"]),
]


@pytest.mark.parametrize(
    ("host", "kind"), [(host, kind) for kind, hosts in NON_PUBLIC for host in hosts]
)
def test_other_non_public_addresses(host: str, kind: str):
    assert not isinstance(normalise_host(host), str)
    assert AddressPolicy().refusal(host) == kind
    with pytest.raises(AddressRefusedError):
        AddressPolicy().check_host(host)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        *((host, "8.8.8.8") for host in ["8.8.8.8", "134744072", "0x08080808", "010.010.010.010"]),
        ("0127.0.0.1", "87.0.0.1"),  # 0127 is octal, as inet_aton reads it: not loopback
        ("[::ffff:8.8.8.8]", "::ffff:808:808"),
        ("2606:4700:4700::1111", "2606:4700:4700::1111"),
        ("64:ff9b::808:808", "64:ff9b::808:808"),
    ],
)
def test_public_addresses_in_any_spelling_pass(host: str, address: str):
    assert normalise_host(host) == ip_address(address)
    assert AddressPolicy().refusal(host) is None
    AddressPolicy().check_host(host)


NAMES = [
    *["feeds.example.test", "Feeds.Example.Test", "localhost", "example.com.", "1.2.3.4.nip.io"],
    *["127.0.0.1.example", "0x7f.example", "127.0.0.1x", "1a.2b", "0xg", "a%2eb"],
    *["bücher.example", "xn--bcher-kva.example"],
]


@pytest.mark.parametrize("host", NAMES)
def test_names_go_to_dns_unchanged(host: str):
    assert normalise_host(host) == host
    AddressPolicy().check_host(host)  # names are judged on resolving


NOT_ADDRESSES = [
    *["256.1.1.1", "1.256.1.1", "4294967296", "0x100000000", "1.16777216", "1.2.65536"],
    *["1.2.3.4.5", "08.0.0.1", "0x7g.0.0.1", "1..2", "example.256"],
    *["::ffff:127.1", "::zz", "[1:2:3]"],
    pytest.param("9" * 5000, id="5000-nines"),  # more digits than int() reads
]


@pytest.mark.parametrize("host", NOT_ADDRESSES)
def test_numeric_hosts_that_spell_no_address_are_refused_not_looked_up(host: str):
    with pytest.raises(NumericHostError):
        normalise_host(host)
    with pytest.raises(AddressRefusedError) as caught:
        AddressPolicy().check_host(host)
    assert "so it is not looked up" in caught.value.text
    assert ALLOW_HINT not in caught.value.text  # no setting makes it an address


def test_allowed_networks_cover_every_spelling():
    policy = AddressPolicy((ip_network("127.0.0.0/8"),))
    for host in LOOPBACK_V4:
        policy.check_host(host)
    with pytest.raises(AddressRefusedError):
        policy.check_host("2852039166")


def test_peer_refusals_say_where_the_connection_went():
    policy = AddressPolicy()
    policy.check_peer("feeds.example.test", ("93.184.215.14", 443))
    cases = [
        (("127.0.0.1", 8080), "feeds.example.test connected to 127.0.0.1, a loopback address"),
        (("fe80::1%eth0", 80, 0, 2), "feeds.example.test connected to fe80::1, a link-local"),
        (("::ffff:10.0.0.1", 80, 0, 0), "feeds.example.test connected to ::ffff:10.0.0.1, a priv"),
        (None, "feeds.example.test connected to an unknown address, which cannot be checked"),
    ]
    for peer, text in cases:
        with pytest.raises(AddressRefusedError) as caught:
            policy.check_peer("feeds.example.test", peer)
        assert caught.value.text.startswith(text)
        assert caught.value.text.endswith(ALLOW_HINT)


# -- in-process: the real Retriever, real servers on loopback --------------------------


@dataclass
class Connects:
    """Every TCP connect made during a test; any to a non-loopback address is refused."""

    log: list[tuple[str, int]] = field(default_factory=list)
    foreign: list[Any] = field(default_factory=list)


@pytest.fixture(autouse=True)
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connects]:
    seen = Connects()
    real = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0]).split("%", 1)[0]
            if not ip_address(host).is_loopback:
                seen.foreign.append(address)
                raise ConnectionRefusedError(f"test refuses to connect to {address}")
            seen.log.append((host, address[1]))
        real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield seen
    assert seen.foreign == [], "a connection outside loopback was attempted"


class LoopbackResolver(AbstractResolver):
    """Answers every name with a loopback address (``names`` may pick another one)."""

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names or {}
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        address = self.names.get(host, "127.0.0.1")
        return [ResolveResult(hostname=host, host=address, port=port, family=0, proto=0, flags=0)]

    async def close(self) -> None:
        pass


def guarded(resolver: AbstractResolver, *allowed: str, private: bool = False) -> Retriever:
    config = FetcherConfig(
        allow_private_addresses=private, timeout=2.0, connect_timeout=1.0, max_redirects=5
    )
    networks = tuple(ip_network(net) for net in allowed)
    return Retriever(config, resolver=resolver, allowed_networks=networks)


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    return await Outside.start(aiohttp_server)


def port_of(server: Outside) -> str:
    return server.url("").rsplit(":", 1)[1]


URL_SPELLINGS = list(LOOPBACK_V4)
URL_SPELLINGS += [h if h.startswith("[") else f"[{h}]" for h, _ in LOOPBACK_V6]


@pytest.mark.parametrize("host", URL_SPELLINGS)
async def test_loopback_in_any_spelling_is_refused_before_connecting(
    outside: Outside, connects: Connects, host: str
):
    resolver = LoopbackResolver()
    async with guarded(resolver) as retriever:
        with pytest.raises(FetchError) as caught:
            await retriever.fetch(f"http://{host}:{port_of(outside)}/feed.xml")
    assert caught.value.stage == "ssrf"
    assert "a loopback address" in caught.value.message
    assert caught.value.message.endswith(ALLOW_HINT)
    assert outside.requests == []
    assert connects.log == []
    assert resolver.lookups == []


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("http://2852039166/latest", "2852039166 stands for 169.254.169.254, a link-local address"),
        ("http://0xa9fea9fe/latest", "0xa9fea9fe stands for 169.254.169.254, a link-local address"),
        ("http://[::ffff:a9fe:a9fe]/latest", "::ffff:a9fe:a9fe is a link-local address"),
        ("http://256.1.1.1/feed.xml", "spells no IPv4 or IPv6 address, so it is not looked up"),
        ("http://4294967296/feed.xml", "spells no IPv4 or IPv6 address, so it is not looked up"),
    ],
)
async def test_metadata_and_out_of_range_hosts_are_refused_unresolved(
    connects: Connects, url: str, text: str
):
    resolver = LoopbackResolver()
    async with guarded(resolver) as retriever:
        with pytest.raises(FetchError) as caught:
            await retriever.fetch(url)
    assert caught.value.stage == "ssrf"
    assert f"{url}: " in caught.value.message
    assert text in caught.value.message
    assert resolver.lookups == []
    assert connects.log == []


async def test_a_name_resolving_to_loopback_is_refused(outside: Outside, connects: Connects):
    resolver = LoopbackResolver()
    async with guarded(resolver) as retriever:
        with pytest.raises(FetchError) as caught:
            await retriever.fetch(f"http://feeds.example.test:{port_of(outside)}/feed.xml")
    assert caught.value.stage == "ssrf"
    assert caught.value.message.endswith(
        f"feeds.example.test resolves to 127.0.0.1, a loopback address; {ALLOW_HINT}"
    )
    assert resolver.lookups == ["feeds.example.test"]
    assert outside.requests == []
    assert connects.log == []


async def test_the_connected_peer_is_checked_when_the_earlier_checks_miss(
    outside: Outside, connects: Connects, monkeypatch: pytest.MonkeyPatch
):
    """With the host check gone, only the peer check stands (aiohttp resolves no literal).

    It connects, then refuses before a byte of the request is written.
    """
    monkeypatch.setattr(Retriever, "_check_host", lambda self, url: None)
    async with guarded(LoopbackResolver()) as retriever:
        with pytest.raises(FetchError) as caught:
            await retriever.fetch(f"http://127.0.0.1:{port_of(outside)}/feed.xml")
    assert caught.value.stage == "ssrf"
    assert f"127.0.0.1 is a loopback address; {ALLOW_HINT}" in caught.value.message
    assert connects.log == [("127.0.0.1", int(port_of(outside)))]  # connected once, no retry
    assert outside.requests == []


async def test_guarded_connector_refuses_the_peer_whatever_the_resolver_said(
    outside: Outside, connects: Connects
):
    url = f"http://feeds.example.test:{port_of(outside)}/feed.xml"
    connector = GuardedConnector(AddressPolicy(), resolver=LoopbackResolver())  # unguarded DNS
    async with aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await session.get(url)
    assert isinstance(caught.value.os_error, AddressRefusedError)
    assert caught.value.os_error.text == (
        f"feeds.example.test connected to 127.0.0.1, a loopback address; {ALLOW_HINT}"
    )
    assert connects.log == [("127.0.0.1", int(port_of(outside)))]
    assert outside.requests == []


async def test_guarded_resolver_judges_a_host_that_spells_an_address():
    """Older aiohttp hands ``127.1`` to the resolver; the guard reads it before any lookup."""
    inner = LoopbackResolver()
    with pytest.raises(AddressRefusedError, match=r"] 127\.1 stands for 127\.0\.0\.1, a loopback"):
        await GuardedResolver(inner).resolve("127.1", 80)
    assert inner.lookups == []
    spelled = GuardedResolver(LoopbackResolver({"feeds.example.test": "0x7f000001"}))
    with pytest.raises(AddressRefusedError, match=r"resolves to 0x7f000001, a loopback address"):
        await spelled.resolve("feeds.example.test", 80)


REDIRECT_HOSTS = [
    *["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "017700000001", "127.000.000.001"],
    *[
        "[::ffff:127.0.0.1]",
        "[::1]",
        "feeds.example.test",
    ],  # the stub resolves the name to loopback
]
REDIRECT_TARGETS = [
    *["http://2852039166/latest", "http://0xa9fea9fe/latest"],
    *[f"http://{host}:{{port}}/feed.xml" for host in REDIRECT_HOSTS],
]


@pytest.mark.parametrize("target", REDIRECT_TARGETS)
async def test_redirects_to_any_spelling_are_refused_and_never_requested(
    aiohttp_server: Any, outside: Outside, connects: Connects, target: str
):
    """public.example.test (127.0.0.2, exempted to stand in for a public host) redirects inward."""
    public = await Outside.start(aiohttp_server, host="127.0.0.2")
    resolver = LoopbackResolver({"public.example.test": "127.0.0.2"})
    target = target.format(port=port_of(outside))
    start = f"http://public.example.test:{port_of(public)}/location"
    async with guarded(resolver, "127.0.0.2/32") as retriever:
        assert (await retriever.fetch(f"{start}?to=/feed.xml")).body == SAMPLE_RSS
        with pytest.raises(FetchError) as caught:
            await retriever.fetch(f"{start}?code=301&to={quote(target, safe='')}")
    assert caught.value.stage == "ssrf"
    assert caught.value.message.startswith(f"{start}?")
    assert f" redirects to {URL(target)}: " in caught.value.message
    assert "a loopback address" in caught.value.message or "a link-local" in caught.value.message
    assert outside.requests == []
    assert public.paths() == ["/location", "/feed.xml", "/location"]
    assert {host for host, _ in connects.log} == {"127.0.0.2"}


async def test_allow_private_addresses_still_allows_loopback(outside: Outside):
    async with guarded(LoopbackResolver(), private=True) as retriever:
        for host in ("feeds.example.test", "127.0.0.1"):
            got = await retriever.fetch(f"http://{host}:{port_of(outside)}/feed.xml")
            assert got.body == SAMPLE_RSS
    assert len(outside.requests) == 2
