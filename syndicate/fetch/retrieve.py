"""Retrieve outside feeds over HTTP: a polite client and a paranoid one.

Polite, because the servers we read are other people's: one session with
keep-alive for a whole run, a limit on requests in flight in total and per
host, conditional requests with the validators the server gave us last time,
a User-Agent that says who we are, and Retry-After read back to the scheduler.

Paranoid, because the documents and the servers are not ours: a body is
capped while it streams, after decompression (a 50 KB gzip can expand to
gigabytes); every fetch is bounded in time, so a trickling server cannot hold
a slot for ever; redirects are followed by hand, so each hop is counted,
checked for loops and held to http(s); and, unless the config allows it, no
connection is made to a loopback, private, link-local or otherwise non-public
address (server-side request forgery). That last check is
:mod:`syndicate.fetch.guard`'s, applied on every redirect hop to the URL's
host in any spelling before connecting, installed as the connector's
resolver (every address a name resolves to) and in the connector itself
(the peer address of the socket actually connected to).

Every failure comes back as one ``FetchError`` with a stage and a sentence a
person can act on, never as an aiohttp exception; the runner records it and
moves on, so one broken source fails alone.

This module decides nothing about schedules or storage; it turns
``(url, validators)`` into a ``Retrieved`` or a ``FetchError``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.compression_utils import HAS_BROTLI
from yarl import URL

from syndicate import __version__
from syndicate.clock import SYSTEM, Clock
from syndicate.config import FetcherConfig
from syndicate.fetch.guard import (
    AddressPolicy,
    AddressRefusedError,
    GuardedConnector,
    GuardedResolver,
    Network,
)
from syndicate.fetch.schedule import parse_retry_after
from syndicate.fetch.types import FetchError, Retrieved, Validators
from syndicate.httpdate import parse_http_date

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "USER_AGENT",
    "Retriever",
]

PROJECT_URL: Final = "https://pypi.org/project/syndicate/"
#: Names us and says where to read about us, so a publisher can find who is calling.
USER_AGENT: Final = f"syndicate/{__version__} (+{PROJECT_URL})"
#: Feeds first; plain XML and JSON next; anything else last, since many
#: publishers label feeds text/html or text/plain and the parser decides anyway.
ACCEPT: Final = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/rdf+xml;q=0.95, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.9, */*;q=0.8"
)
#: aiohttp decodes br only with the brotli package; never advertise what we cannot read.
#: Raw deflate is left out on purpose: servers and clients disagree on what it means.
ACCEPT_ENCODING: Final = "gzip, br" if HAS_BROTLI else "gzip"

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
PERMANENT: Final = frozenset({301, 308})
#: Validators longer than this, or not printable ASCII, are dropped: they are
#: echoed back in our request headers, so they must not smuggle anything in.
MAX_VALIDATOR_LENGTH: Final = 1024
#: URLs are quoted in error messages, which people read; keep them readable.
MAX_SHOWN_URL: Final = 300

# -- helpers ----------------------------------------------------------------------------


def _show(url: URL | str) -> str:
    """A URL for an error message: without any password in it, and not too long."""
    try:
        parsed = URL(url) if isinstance(url, str) else url
        if parsed.raw_user or parsed.raw_password:
            url = parsed.with_user(None)
    except (ValueError, TypeError):
        pass
    text = str(url)
    return text if len(text) <= MAX_SHOWN_URL else text[: MAX_SHOWN_URL - 1] + "…"


def _clean_validator(value: str | None) -> str | None:
    """A validator fit to send back in a header, or None."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALIDATOR_LENGTH:
        return None
    if not all(" " <= ch <= "~" for ch in value):
        return None
    return value


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers as a plain dict: lowercase names, repeats joined with ", ".

    aiohttp decodes header bytes as UTF-8 with surrogateescape; undecodable
    bytes become U+FFFD here so the values can be stored and shown safely.
    """
    out: dict[str, str] = {}
    for name, value in headers.items():  # a multidict yields every repeat
        key = str(name).lower()
        text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def _parse_url(url: str) -> URL:
    """A fetchable URL, or a FetchError saying why not (checked before any I/O)."""
    try:
        parsed = URL(url)
        host = parsed.raw_host
    except (ValueError, TypeError) as exc:
        raise FetchError("http", f"not a valid URL: {_show(url)} ({exc})") from None
    if not parsed.scheme:
        raise FetchError("http", f"not an absolute http(s) URL: {_show(url)!r}")
    if parsed.scheme not in ("http", "https"):
        raise FetchError(
            "ssrf", f"only http and https URLs are fetched, not {parsed.scheme}: {_show(url)}"
        )
    if not host:
        raise FetchError("dns", f"{_show(url)} has no host name")
    return parsed.with_fragment(None)


def _where(url: URL) -> str:
    """host:port, the unit of the per-host limit and of connection messages."""
    host = url.raw_host or ""
    return f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str | None


class _HostSlots:
    """At most ``limit`` requests in flight per host:port, with no state kept for idle hosts."""

    @dataclass
    class _Slot:
        semaphore: asyncio.Semaphore
        users: int = 0

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._slots: dict[str, _HostSlots._Slot] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = self._Slot(asyncio.Semaphore(self._limit))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[key]


# -- the retriever ---------------------------------------------------------------------


class Retriever:
    """One HTTP session for a whole fetch run; ``fetch`` turns a URL into bytes or a FetchError.

    Use as an async context manager; fetches may run concurrently (the
    limits are enforced here, so the runner can start every fetch at once)::

        async with Retriever(config.fetcher) as retriever:
            retrieved = await retriever.fetch(url, stored_validators)

    Limits: ``concurrency`` requests in flight in total and ``per_host`` per
    host and port. The ``timeout`` counts only time spent on the network
    (connecting, waiting, reading, across every redirect hop), not time
    queued behind other fetches for a slot, so a busy run never times out a
    healthy source. ``connect_timeout`` bounds each TCP (and TLS) connection.

    ``allowed_networks`` exempts specific networks from the address policy
    (for example one internal feed host) without allowing every private
    address; it is ignored when ``allow_private_addresses`` is set.

    ``resolver`` answers DNS lookups (default: the system's, in threads); the
    guard wraps it, so a stand-in resolver cannot bypass the address policy.

    ``clock`` stands in for the response's Date when a Retry-After date has
    to be turned into seconds and the server sent no Date.
    """

    def __init__(
        self,
        config: FetcherConfig,
        *,
        user_agent: str = USER_AGENT,
        allowed_networks: tuple[Network, ...] = (),
        resolver: AbstractResolver | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.config = config
        self.user_agent = user_agent
        self.clock = clock
        self._allowed = allowed_networks
        self._inner_resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._resolver: AbstractResolver | None = None
        self._policy: AddressPolicy | None = None
        self._total = asyncio.Semaphore(config.concurrency)
        self._hosts = _HostSlots(config.per_host)

    async def __aenter__(self) -> Retriever:
        inner = self._inner_resolver or aiohttp.ThreadedResolver()
        self._resolver = inner
        if not self.config.allow_private_addresses:
            self._policy = AddressPolicy(self._allowed)
            self._resolver = GuardedResolver(inner, policy=self._policy)
        options: dict[str, Any] = {
            "resolver": self._resolver,
            # Our own slots come first (see the class docstring); these are a backstop.
            "limit": self.config.concurrency,
            "limit_per_host": self.config.per_host,
            # aiohttp does not count idle pooled sockets against ``limit``, so a
            # run over many hosts keeps one open per host for this long; short
            # enough to bound open files, long enough for sources sharing a host.
            "keepalive_timeout": 5.0,
            # Results are cached after the guard filtered them, so a cached
            # answer is as safe as a fresh one.
            "ttl_dns_cache": 60,
        }
        connector = (
            aiohttp.TCPConnector(**options)
            if self._policy is None
            else GuardedConnector(self._policy, **options)  # checks the peer too
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # Whole-fetch time is enforced in fetch(); here only the TCP connect.
            timeout=aiohttp.ClientTimeout(
                total=None, connect=None, sock_connect=self.config.connect_timeout
            ),
            headers={
                "User-Agent": self.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            # Cookies would let one source's answers change another's; proxies
            # from the environment would bypass the address check.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=True,
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    # -- fetch -------------------------------------------------------------------

    async def fetch(self, url: str, validators: Validators | None = None) -> Retrieved:
        """GET ``url`` conditionally; a Retrieved (200 or 304), else a FetchError.

        Redirects are followed here, hop by hop: each target must be http(s),
        pass the address policy, and not have been seen before in this chain;
        at most ``max_redirects`` hops. ``permanent_url`` is the final URL
        when every hop was a 301 or 308 (a 302, 303 or 307 anywhere in the
        chain means the publisher may change its mind, so the stored URL stays).
        It is never set on a FetchError: a source moves only when its new
        address answers.
        """
        if self._session is None:
            raise RuntimeError("use Retriever as an async context manager")
        validators = validators or Validators()
        headers = {}
        if etag := _clean_validator(validators.etag):
            headers["If-None-Match"] = etag
        if last_modified := _clean_validator(validators.last_modified):
            headers["If-Modified-Since"] = last_modified

        loop = asyncio.get_running_loop()
        current = _parse_url(url)
        seen = {current}
        permanent = True
        hops = 0
        remaining = self.config.timeout
        while True:
            try:
                self._check_host(current)
                async with self._hosts.hold(_where(current)), self._total:
                    started = loop.time()
                    try:
                        outcome = await self._exchange(current, headers, validators, remaining)
                    finally:
                        remaining -= loop.time() - started
            except FetchError as error:
                if hops and error.stage == "ssrf":  # say how we got there
                    raise FetchError("ssrf", f"{_show(url)} redirects to {error.message}") from None
                raise
            if isinstance(outcome, Retrieved):
                moved = str(current) if hops and permanent else None
                return replace(
                    outcome,
                    permanent_url=moved,
                    elapsed=self.config.timeout - remaining,
                )
            target = self._redirect_target(current, outcome)
            if target in seen:
                raise FetchError(
                    "redirect",
                    f"redirect loop: {_show(current)} sends us back to {_show(target)}",
                )
            if hops >= self.config.max_redirects:
                raise FetchError(
                    "redirect",
                    f"more than {self.config.max_redirects} redirects "
                    f"([fetcher] max_redirects) starting at {_show(url)}",
                )
            hops += 1
            permanent = permanent and outcome.status in PERMANENT
            seen.add(target)
            current = target

    def _check_host(self, url: URL) -> None:
        """Refuse a host that spells a forbidden address in any form, before connecting.

        aiohttp skips the resolver for hosts it takes for addresses, and which
        spellings it takes (or refuses) depends on its version; so the guard
        reads the spelling itself. Names pass here, to be checked on resolving.
        """
        if self._policy is None:
            return
        try:
            self._policy.check_host(url.raw_host or "")
        except AddressRefusedError as refused:
            raise FetchError("ssrf", f"{_show(url)}: {refused.text}") from None

    def _redirect_target(self, current: URL, redirect: _Redirect) -> URL:
        if not redirect.location:
            raise FetchError(
                "redirect",
                f"{_phrase(redirect.status)} from {_show(current)} without a Location header",
            )
        try:
            target = current.join(URL(redirect.location)).with_fragment(None)
        except (ValueError, TypeError):
            raise FetchError(
                "redirect",
                f"{_show(current)} redirects to an invalid URL: {_show(redirect.location)}",
            ) from None
        if target.scheme not in ("http", "https"):
            raise FetchError(
                "redirect",
                f"{_show(current)} redirects to {_show(target)}; only http and https are followed",
            )
        if not target.raw_host:
            raise FetchError(
                "redirect", f"{_show(current)} redirects to {_show(target)}, which has no host"
            )
        return target

    async def _exchange(
        self,
        url: URL,
        headers: dict[str, str],
        validators: Validators,
        budget: float,
    ) -> Retrieved | _Redirect:
        """One request and its response, within ``budget`` seconds; exceptions translated."""
        assert self._session is not None
        try:
            async with asyncio.timeout(budget):
                async with self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    return await self._handle(url, response, validators)
        except FetchError:
            raise
        except aiohttp.ConnectionTimeoutError:
            raise FetchError(
                "timeout",
                f"could not connect to {_where(url)} within "
                f"{self.config.connect_timeout:g} s ([fetcher] connect_timeout)",
            ) from None
        except TimeoutError:
            raise FetchError(
                "timeout",
                f"no complete response from {_show(url)} within "
                f"{self.config.timeout:g} s ([fetcher] timeout)",
            ) from None
        except aiohttp.ClientError as exc:
            raise _client_error(url, exc) from None
        except OSError as exc:
            raise FetchError("connect", f"{_show(url)}: {exc.strerror or exc}") from None

    async def _handle(
        self, url: URL, response: aiohttp.ClientResponse, validators: Validators
    ) -> Retrieved | _Redirect:
        status = response.status
        if status in REDIRECTS:
            return _Redirect(status, response.headers.get("Location"))
        headers = _plain_headers(response.headers)
        fresh = Validators(
            etag=_clean_validator(headers.get("etag")),
            last_modified=_clean_validator(headers.get("last-modified")),
        )
        if status == 304:
            # A 304 may omit validators it did not change (RFC 9110 15.4.5): keep ours.
            kept = Validators(
                etag=fresh.etag or validators.etag,
                last_modified=fresh.last_modified or validators.last_modified,
            )
            return Retrieved(304, str(url), None, None, headers, kept)
        if 200 <= status < 300 and status != 206:
            body = await self._read_body(url, response)
            return Retrieved(status, str(url), None, body, headers, fresh)
        raise self._status_error(url, status, headers)

    async def _read_body(self, url: URL, response: aiohttp.ClientResponse) -> bytes:
        """The decompressed body, refused as soon as it passes ``max_body_bytes``.

        Content-Length is the compressed size, so it can only prove a body too
        big, never small enough; the count that matters is made while reading.
        """
        limit = self.config.max_body_bytes
        announced = response.content_length
        if announced is not None and announced > limit:
            raise FetchError(
                "size",
                f"{_show(url)} announces {announced:,} bytes, more than the "
                f"{limit:,} byte limit ([fetcher] max_body_bytes)",
            )
        chunks: list[bytes] = []
        total = 0
        while chunk := await response.content.readany():
            total += len(chunk)
            if total > limit:
                raise FetchError(
                    "size",
                    f"the body of {_show(url)} is larger than the {limit:,} byte limit "
                    "([fetcher] max_body_bytes), counted after decompression",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _status_error(self, url: URL, status: int, headers: dict[str, str]) -> FetchError:
        if status == 410:
            return FetchError(
                "http",
                f"410 Gone: {_show(url)} has been removed for good",
                status=410,
                gone=True,
            )
        retry_after = None
        if status >= 400:
            now = _response_date(headers.get("date"), self.clock)
            retry_after = parse_retry_after(headers.get("retry-after"), now=now)
        message = f"{_phrase(status)} from {_show(url)}"
        if status == 206:
            message += " (a partial body, although we asked for the whole document)"
        elif 300 <= status < 400:
            message += " (not a redirect we follow)"
        if retry_after is not None:
            message += f"; asked to retry after {retry_after:g} s"
        return FetchError("http", message, status=status, retry_after=retry_after)


def _response_date(value: str | None, clock: Clock) -> datetime:
    """The response's Date, else our clock: Retry-After dates are compared with it."""
    return parse_http_date(value) or clock.now()


def _reason(error: BaseException) -> str:
    """The short human reason inside an OS or TLS error ("Connection refused")."""
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return str(error.verify_message)
    if isinstance(error, ssl.SSLError) and error.reason:
        return str(error.reason).replace("_", " ").lower()
    if isinstance(error, socket.gaierror) and error.strerror:
        return str(error.strerror)  # its errno is a resolver code, not an errno
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno)
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    return str(error) or type(error).__name__


def _client_error(url: URL, exc: aiohttp.ClientError) -> FetchError:
    """Translate an aiohttp exception into a stage and a sentence."""
    where = _where(url)
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
        exc.os_error, AddressRefusedError
    ):  # refused on resolving (a DNS error to aiohttp) or on connecting (the peer)
        return FetchError("ssrf", f"{_show(url)}: {exc.os_error.text}")
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FetchError("dns", f"could not resolve {url.host}: {_reason(exc.os_error)}")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return FetchError(
            "connect",
            f"the TLS certificate of {where} is not valid: {_reason(exc.certificate_error)}",
        )
    if isinstance(exc, aiohttp.ClientConnectorError):  # TLS handshake failures included
        what = "make a TLS connection" if isinstance(exc, aiohttp.ClientSSLError) else "connect"
        return FetchError("connect", f"could not {what} to {where}: {_reason(exc.os_error)}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return FetchError("connect", f"{where} closed the connection without a complete answer")
    if isinstance(exc, aiohttp.ClientPayloadError):
        if "content-encoding" in str(exc).lower():
            return FetchError(
                "http", f"the body of {_show(url)} does not decompress as its headers say it should"
            )
        return FetchError(
            "connect",
            f"the body of {_show(url)} was cut short: the connection ended before "
            "the end the server announced",
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return FetchError("http", f"cannot request {_show(url)}: {exc}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return FetchError("http", f"{where} sent a response that is not valid HTTP: {exc.message}")
    if isinstance(exc, aiohttp.ClientConnectionError):
        return FetchError("connect", f"the connection to {where} failed: {_reason(exc)}")
    return FetchError("http", f"fetching {_show(url)} failed: {_reason(exc)}")
