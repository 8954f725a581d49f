"""The retriever against real, misbehaving servers on loopback (tests/outside_server.py).

No mocks: every test talks HTTP to an aiohttp server, so what is checked is
what a publisher's server would see and what our runner would get back.
Every fetch is bounded by a small timeout, so the file runs in seconds.
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from ipaddress import ip_network
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from syndicate import __version__
from syndicate.config import FetcherConfig
from syndicate.fetch.guard import AddressRefusedError, GuardedResolver, address_refusal
from syndicate.fetch.retrieve import ACCEPT_ENCODING, USER_AGENT, Retriever
from syndicate.fetch.types import FetchError, Retrieved, Validators
from tests.outside_server import LAST_MODIFIED, SAMPLE_RSS, Outside

pytestmark = pytest.mark.timeout(15)

LIMIT = 100_000  # max_body_bytes in these tests


def config(**overrides: Any) -> FetcherConfig:
    """A fetcher config for loopback tests: private addresses allowed, short timeouts."""
    values: dict[str, Any] = {
        "allow_private_addresses": True,
        "timeout": 2.0,
        "connect_timeout": 1.0,
        "max_body_bytes": LIMIT,
        "concurrency": 10,
        "per_host": 5,
        "max_redirects": 5,
    }
    values.update(overrides)
    return FetcherConfig(**values)


async def fetch(url: str, validators: Validators | None = None, **overrides: Any) -> Retrieved:
    async with Retriever(config(**overrides)) as retriever:
        return await retriever.fetch(url, validators)


async def fail(url: str, validators: Validators | None = None, **overrides: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(url, validators, **overrides)
    return caught.value


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    return await Outside.start(aiohttp_server)


@pytest.fixture
async def retriever() -> AsyncIterator[Retriever]:
    async with Retriever(config()) as r:
        yield r


# -- success, validators, headers ---------------------------------------------------


async def test_200_returns_body_validators_and_headers(outside: Outside, retriever: Retriever):
    outside.documents["/feed.xml"].headers["Cache-Control"] = "max-age=600"
    url = outside.url("/feed.xml")
    got = await retriever.fetch(url, Validators())
    assert got.status == 200
    assert got.body == SAMPLE_RSS
    assert got.final_url == url
    assert got.permanent_url is None
    assert got.validators.etag == outside.documents["/feed.xml"].current_etag()
    assert got.validators.last_modified == LAST_MODIFIED
    # A plain dict with lowercase names, as the parser and the scheduler want it.
    assert got.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert got.headers["cache-control"] == "max-age=600"
    assert "date" in got.headers
    assert 0 < got.elapsed < 2


async def test_conditional_request_sends_validators_and_gets_304(
    outside: Outside, retriever: Retriever
):
    first = await retriever.fetch(outside.url("/feed.xml"))
    second = await retriever.fetch(outside.url("/feed.xml"), first.validators)
    assert second.status == 304
    assert second.body is None
    assert second.validators == first.validators
    seen = outside.requests[-1].headers
    assert seen["if-none-match"] == first.validators.etag
    assert seen["if-modified-since"] == LAST_MODIFIED


async def test_304_without_validators_keeps_the_old_ones(outside: Outside, retriever: Retriever):
    old = Validators(etag='"v1"', last_modified=LAST_MODIFIED)
    got = await retriever.fetch(outside.url("/status/304"), old)
    assert got.status == 304
    assert got.validators == old


async def test_last_modified_alone_makes_the_request_conditional(outside: Outside):
    got = await fetch(outside.url("/feed.xml"), Validators(last_modified=LAST_MODIFIED))
    assert got.status == 304
    assert "if-none-match" not in outside.requests[-1].headers


async def test_unsafe_stored_validators_are_not_sent(outside: Outside, retriever: Retriever):
    bad = Validators(etag='"a"\r\nX-Injected: 1', last_modified="x" * 5000)
    got = await retriever.fetch(outside.url("/feed.xml"), bad)
    assert got.status == 200
    assert not outside.requests[-1].conditional


async def test_user_agent_and_accept_headers(outside: Outside, retriever: Retriever):
    await retriever.fetch(outside.url("/feed.xml"))
    headers = outside.requests[-1].headers
    assert headers["user-agent"] == USER_AGENT
    assert headers["user-agent"].startswith(f"syndicate/{__version__} (+http")
    assert headers["accept"].startswith("application/atom+xml, application/rss+xml")
    assert headers["accept-encoding"] == ACCEPT_ENCODING == "gzip, br"


@pytest.mark.parametrize("path", ["/gzip", "/br"])
async def test_compressed_bodies_are_decompressed(outside: Outside, path: str):
    got = await fetch(outside.url(path))
    assert got.body == SAMPLE_RSS


async def test_wrong_content_type_still_returns_the_body(outside: Outside):
    """Publishers label feeds text/plain or text/html; the parser, not we, decides."""
    got = await fetch(outside.url("/wrong-type"))
    assert got.body == SAMPLE_RSS
    assert got.headers["content-type"].startswith("text/plain")


async def test_other_2xx(outside: Outside):
    """204 is a success with an empty body (the parser reports "empty"); 206 is refused."""
    got = await fetch(outside.url("/status/204"))
    assert (got.status, got.body) == (204, b"")
    error = await fail(outside.url("/status/206"))
    assert (error.stage, error.status) == ("http", 206)


# -- limits: size and time -------------------------------------------------------------


async def test_oversized_body_with_honest_length_is_refused_before_reading(outside: Outside):
    error = await fail(outside.url(f"/big?size={LIMIT + 1}"))
    assert error.stage == "size"
    assert "announces 100,001 bytes" in error.message
    assert "max_body_bytes" in error.message


async def test_body_at_the_limit_is_accepted(outside: Outside):
    got = await fetch(outside.url(f"/chunked?size={LIMIT}"))
    assert got.body is not None
    assert len(got.body) == LIMIT


async def test_oversized_chunked_body_is_cut_off_while_streaming(outside: Outside):
    error = await fail(outside.url("/chunked?size=50000000"))
    assert error.stage == "size"
    assert "larger than the 100,000 byte limit" in error.message


async def test_gzip_bomb_is_cut_off_after_decompression(outside: Outside):
    """50 MB of zeros in about 50 KB of gzip (under the limit): refused while inflating."""
    url = outside.url(f"/bomb?size={50 << 20}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    error = await fail(url)
    assert error.stage == "size"
    assert "after decompression" in error.message
    assert time.monotonic() - started < 2
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 25  # far below the 50 MB a full inflate would need


async def test_trickling_response_times_out(outside: Outside):
    started = time.monotonic()
    error = await fail(outside.url("/trickle?interval=0.05&seconds=10"), timeout=1.0)
    assert error.stage == "timeout"
    assert "within 1 s ([fetcher] timeout)" in error.message
    assert 0.9 < time.monotonic() - started < 2


async def test_silent_server_times_out(outside: Outside):
    error = await fail(outside.url("/hang?seconds=3"), timeout=1.0)
    assert error.stage == "timeout"


async def test_time_queued_for_a_slot_does_not_count(outside: Outside):
    """Four 0.5 s fetches through one slot take 2 s; each still fits a 1.5 s timeout.

    (Wide margins: the point is queued time, not a race with a loaded machine.)
    """
    async with Retriever(config(per_host=1, timeout=1.5)) as r:
        got = await asyncio.gather(*(r.fetch(outside.url("/slow?delay=0.5")) for _ in range(4)))
    assert [g.status for g in got] == [200, 200, 200, 200]
    assert all(g.elapsed < 1.5 for g in got)


async def test_body_that_does_not_decompress(outside: Outside):
    error = await fail(outside.url("/bad-gzip"))
    assert error.stage == "http"
    assert "does not decompress" in error.message


async def test_truncated_body_is_a_clear_error(outside: Outside):
    error = await fail(outside.url("/truncated?length=10000&sent=100"))
    assert error.stage == "connect"
    assert "cut short" in error.message


# -- statuses ----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "phrase"), [(404, "Not Found"), (500, "Internal Server Error")])
async def test_error_statuses(outside: Outside, code: int, phrase: str):
    error = await fail(outside.url(f"/status/{code}"))
    assert (error.stage, error.status, error.gone) == ("http", code, False)
    assert error.message.startswith(f"{code} {phrase} from http://127.0.0.1")
    assert error.retry_after is None


async def test_410_is_gone(outside: Outside):
    error = await fail(outside.url("/status/410"))
    assert (error.stage, error.status, error.gone) == ("http", 410, True)
    assert error.message.startswith("410 Gone: ")


@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_seconds(outside: Outside, code: int):
    error = await fail(outside.url(f"/status/{code}?retry_after=120"))
    assert (error.status, error.retry_after) == (code, 120.0)
    assert "retry after 120 s" in error.message


@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_http_date(outside: Outside, code: int):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    error = await fail(outside.url(f"/status/{code}?retry_after={when}"))
    assert error.retry_after is not None
    assert 85 <= error.retry_after <= 91


async def test_garbage_retry_after_is_ignored(outside: Outside):
    error = await fail(outside.url("/status/503?retry_after=soon"))
    assert (error.status, error.retry_after) == (503, None)


# -- redirects ------------------------------------------------------------------------------


async def test_permanent_chain_reports_the_new_url(outside: Outside):
    got = await fetch(outside.url("/redirect/301,308/feed.xml"))
    assert got.body == SAMPLE_RSS
    assert got.final_url == got.permanent_url == outside.url("/feed.xml")


async def test_a_temporary_hop_means_no_permanent_url(outside: Outside):
    got = await fetch(outside.url("/redirect/301,302/feed.xml"))
    assert got.final_url == outside.url("/feed.xml")
    assert got.permanent_url is None


@pytest.mark.parametrize("code", [302, 303, 307])
async def test_temporary_redirect_alone(outside: Outside, code: int):
    got = await fetch(outside.url(f"/redirect/{code}/feed.xml"))
    assert got.final_url == outside.url("/feed.xml")
    assert got.permanent_url is None


async def test_validators_follow_redirects_and_304_keeps_permanent_url(outside: Outside):
    first = await fetch(outside.url("/feed.xml"))
    got = await fetch(outside.url("/redirect/301/feed.xml"), first.validators)
    assert got.status == 304
    assert got.permanent_url == outside.url("/feed.xml")


async def test_redirect_loop(outside: Outside):
    error = await fail(outside.url("/loop/a"))
    assert error.stage == "redirect"
    assert "loop" in error.message
    assert outside.paths() == ["/loop/a", "/loop/b"]


async def test_redirect_limit(outside: Outside):
    got = await fetch(outside.url("/hops/5"))  # relative Locations, five hops: fine
    assert got.final_url == outside.url("/hops/0")
    error = await fail(outside.url("/hops/6"))
    assert error.stage == "redirect"
    assert "more than 5 redirects" in error.message
    error = await fail(outside.url("/hops/1"), max_redirects=0)
    assert error.stage == "redirect"


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.com/feed", "data:,x"]
)
async def test_redirect_to_other_schemes_is_refused(outside: Outside, target: str):
    outside.reset()
    error = await fail(outside.url(f"/location?code=301&to={target}"))
    assert error.stage == "redirect"
    assert "only http and https" in error.message
    assert len(outside.requests) == 1


async def test_redirect_without_location(outside: Outside):
    error = await fail(outside.url("/status/301"))
    assert error.stage == "redirect"
    assert "without a Location" in error.message


# -- transport failures -----------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_connection_refused(closed_port: int):
    error = await fail(f"http://127.0.0.1:{closed_port}/feed.xml")
    assert error.stage == "connect"
    assert f"could not connect to 127.0.0.1:{closed_port}" in error.message


async def test_unknown_host():
    error = await fail("http://nonexistent.invalid/feed.xml")
    assert error.stage == "dns"
    assert "could not resolve nonexistent.invalid" in error.message


@pytest.mark.parametrize(
    ("url", "stage"),
    [("file:///etc/passwd", "ssrf"), ("gopher://x/", "ssrf"), ("http://", "dns"), ("", "http")],
)
async def test_unfetchable_source_urls(url: str, stage: str):
    error = await fail(url)
    assert error.stage == stage


async def test_passwords_stay_out_of_error_messages(outside: Outside):
    error = await fail(outside.url("/status/404").replace("://", "://reader:s3cret@"))
    assert "s3cret" not in str(error)
    assert "from http://127.0.0.1:" in error.message


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server TLS context with a certificate nobody trusts."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_untrusted_certificate(aiohttp_server: Any, self_signed: ssl.SSLContext):
    secure = await Outside.start(aiohttp_server, ssl=self_signed)
    assert secure.url("/").startswith("https://")
    error = await fail(secure.url("/feed.xml"))
    assert error.stage == "connect"
    assert "TLS certificate of 127.0.0.1:" in error.message
    assert "self-signed certificate" in error.message
    assert secure.requests == []


async def test_retriever_must_be_entered():
    with pytest.raises(RuntimeError):
        await Retriever(config()).fetch("http://127.0.0.1/")


# -- concurrency -------------------------------------------------------------------------------


async def test_per_host_limit(outside: Outside):
    async with Retriever(config(per_host=2, concurrency=10)) as r:
        await asyncio.gather(*(r.fetch(outside.url("/slow?delay=0.15")) for _ in range(8)))
    assert outside.max_in_flight == 2


async def test_total_limit(outside: Outside):
    async with Retriever(config(per_host=20, concurrency=3)) as r:
        await asyncio.gather(*(r.fetch(outside.url("/slow?delay=0.15")) for _ in range(9)))
    assert outside.max_in_flight == 3


async def test_one_failure_does_not_disturb_the_others(outside: Outside):
    async with Retriever(config(timeout=1.0)) as r:
        results = await asyncio.gather(
            r.fetch(outside.url("/feed.xml")),
            r.fetch(outside.url("/trickle?interval=0.05")),
            r.fetch(outside.url(f"/bomb?size={10 << 20}")),
            r.fetch(outside.url("/status/500")),
            r.fetch(outside.url("/gzip")),
            return_exceptions=True,
        )
    kinds = [r.status if isinstance(r, Retrieved) else getattr(r, "stage", r) for r in results]
    assert kinds == [200, "timeout", "size", "http", 200]


# -- server-side request forgery ------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.1", "a private address"),
        ("fc00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata endpoints
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
        ("::", "the unspecified address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
        ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("100.64.0.1", "a non-public address"),  # carrier-grade NAT
        ("::7f00:1", "a reserved address"),  # IPv4-compatible, deprecated
    ],
)
def test_address_refusal(address: str, kind: str):
    assert address_refusal(address) == kind


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str):
    assert address_refusal(address) is None


class StaticResolver(AbstractResolver):
    """Answers every lookup with fixed addresses, as a hostile DNS server could."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=0, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_guarded_resolver_keeps_only_public_addresses():
    mixed = GuardedResolver(StaticResolver("10.0.0.7", "93.184.215.14", "::1"))
    kept = await mixed.resolve("feeds.example", 80)
    assert [r["host"] for r in kept] == ["93.184.215.14"]

    private = GuardedResolver(StaticResolver("10.0.0.7", "::1"))
    with pytest.raises(AddressRefusedError) as caught:
        await private.resolve("intranet.example", 80)
    assert caught.value.text == (
        "intranet.example resolves to 10.0.0.7, a private address; "
        "set [fetcher] allow_private_addresses = true to allow it"
    )

    exempt = GuardedResolver(StaticResolver("10.0.0.7"), (ip_network("10.0.0.0/24"),))
    assert len(await exempt.resolve("intranet.example", 80)) == 1


@pytest.fixture
async def outside_v6(aiohttp_server: Any) -> Outside:
    return await Outside.start(aiohttp_server, host="::1")


async def test_ssrf_refused_by_default(outside: Outside, outside_v6: Outside):
    port, port6 = outside.url("").rsplit(":", 1)[1], outside_v6.url("").rsplit(":", 1)[1]
    cases = {
        f"http://127.0.0.1:{port}/feed.xml": "127.0.0.1 is a loopback address",
        f"http://localhost:{port}/feed.xml": "localhost resolves to 127.0.0.1, a loopback address",
        f"http://[::1]:{port6}/feed.xml": "::1 is a loopback address",
        f"http://[::ffff:127.0.0.1]:{port}/feed.xml": "is a loopback address",
        # Numeric spellings are read by the guard itself, whatever aiohttp would do.
        f"http://0x7f000001:{port}/feed.xml": "0x7f000001 stands for 127.0.0.1, a loopback address",
        f"http://2130706433:{port}/feed.xml": "2130706433 stands for 127.0.0.1, a loopback address",
    }
    async with Retriever(config(allow_private_addresses=False)) as r:
        for url, expected in cases.items():
            with pytest.raises(FetchError) as caught:
                await r.fetch(url)
            assert caught.value.stage == "ssrf", url
            assert expected in caught.value.message
            assert "set [fetcher] allow_private_addresses = true" in caught.value.message
    assert outside.requests == outside_v6.requests == []


async def test_ssrf_allowed_by_config(outside: Outside, outside_v6: Outside):
    port, port6 = outside.url("").rsplit(":", 1)[1], outside_v6.url("").rsplit(":", 1)[1]
    async with Retriever(config(allow_private_addresses=True)) as r:
        for url in (
            f"http://127.0.0.1:{port}/feed.xml",
            f"http://localhost:{port}/feed.xml",
            f"http://[::1]:{port6}/feed.xml",
        ):
            assert (await r.fetch(url)).body == SAMPLE_RSS
    assert len(outside.requests) == 2
    assert len(outside_v6.requests) == 1


async def test_ssrf_checked_on_every_redirect_hop(aiohttp_server: Any, outside: Outside):
    """A permitted server redirecting to a forbidden one gets no request through.

    127.0.0.2 is exempted (``allowed_networks``) to stand in for a public
    server; its redirects to 127.0.0.1, by literal address and by a name the
    resolver has to check, are refused.
    """
    public = await Outside.start(aiohttp_server, host="127.0.0.2")
    port = outside.url("").rsplit(":", 1)[1]
    retriever = Retriever(
        config(allow_private_addresses=False), allowed_networks=(ip_network("127.0.0.2/32"),)
    )
    async with retriever as r:
        assert (await r.fetch(public.url("/feed.xml"))).status == 200
        for target in (f"http://127.0.0.1:{port}/feed.xml", f"http://localhost:{port}/feed.xml"):
            with pytest.raises(FetchError) as caught:
                await r.fetch(public.url(f"/location?code=301&to={target}"))
            assert caught.value.stage == "ssrf"
            assert caught.value.message.startswith(f"{public.url('/location')}")
            assert f"redirects to {target}: " in caught.value.message
            assert "a loopback address" in caught.value.message
    assert outside.requests == []
