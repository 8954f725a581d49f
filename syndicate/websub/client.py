"""Requests to callbacks and outside hubs, under the fetcher's guard and limits.

A callback URL is typed by a stranger, so it gets what a feed source gets
(syndicate.fetch.guard): unless ``fetcher.allow_private_addresses`` is on,
no connection to loopback, private, link-local or otherwise non-public
addresses, checked on the URL, on every address a name resolves to and on
the socket's peer. Every request is bounded in time (``websub.timeout``) and
reads at most a few KB of the answer; redirects are not followed (section 5.3
and 7 ask for a 2xx from the callback itself). Failures come back as
:class:`CallbackError` with a sentence for /admin, never as aiohttp errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp

from syndicate.config import Config
from syndicate.fetch.guard import AddressPolicy, GuardedConnector, GuardedResolver
from syndicate.fetch.retrieve import USER_AGENT
from syndicate.websub.rules import MAX_CHALLENGE_ANSWER


class CallbackError(Exception):
    """A request that got no HTTP answer: refused address, timeout, connection failure."""


class Callbacks:
    """One HTTP client session for the hub's outgoing requests (use ``async with``)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Callbacks:
        fetcher, websub = self.config.fetcher, self.config.websub
        options: dict[str, Any] = {
            "limit": websub.concurrency,
            "limit_per_host": 0,  # each subscriber is its own; the engine bounds the total
            "ttl_dns_cache": 60,
            "keepalive_timeout": 30.0,
        }
        connector: aiohttp.TCPConnector
        if fetcher.allow_private_addresses:
            connector = aiohttp.TCPConnector(**options)
        else:
            policy = AddressPolicy()
            resolver = GuardedResolver(aiohttp.ThreadedResolver(), policy=policy)
            connector = GuardedConnector(policy, resolver=resolver, **options)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=websub.timeout, sock_connect=min(fetcher.connect_timeout, websub.timeout)
            ),
            headers={"User-Agent": USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,  # an environment proxy would bypass the address guard
            auto_decompress=False,
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

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        read: int = MAX_CHALLENGE_ANSWER,
    ) -> tuple[int, bytes]:
        """(status, up to ``read`` bytes of the body, plus one to tell a longer one)."""
        if self._session is None:
            raise RuntimeError("use Callbacks as an async context manager")
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, allow_redirects=False
            ) as response:
                body = await response.content.read(read + 1) if read else b""
                return response.status, body
        except TimeoutError:
            raise CallbackError(f"no answer within {self.config.websub.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise CallbackError(f"cannot connect: {exc.os_error}") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise CallbackError(f"{type(exc).__name__}: {exc}") from None
