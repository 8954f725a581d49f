"""A trial fetch of a feed an editor wants to add: what it would give, stored nowhere.

The same path as a real fetch (``syndicate.fetch.runner``): the
:class:`~syndicate.fetch.retrieve.Retriever` with its SSRF guard, limits and
redirect rules under the ``[fetcher]`` settings in force, then a parser
process running ``parse_and_clean``, so the editor sees exactly the
headlines the sidebar would show, and a feed on a private address is refused
here as it would be by the fetcher. Nothing is written to the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from syndicate.clock import SYSTEM, Clock
from syndicate.config import FetcherConfig
from syndicate.fetch.retrieve import Retriever
from syndicate.fetch.runner import PARSE_TIMEOUT, parse_and_clean, parser_pool, stop_pool
from syndicate.fetch.types import FetchError
from syndicate.models import CleanEntry

#: Headlines shown from a trial.
SHOWN = 5


@dataclass(frozen=True)
class Trial:
    url: str
    ok: bool
    seconds: float
    status: int | None = None
    final_url: str | None = None
    title: str | None = None
    #: How many entries the document holds (after cleaning).
    count: int = 0
    entries: tuple[CleanEntry, ...] = ()
    error: str | None = None


async def try_source(config: FetcherConfig, url: str, *, clock: Clock = SYSTEM) -> Trial:
    """Fetch and parse ``url`` once as the fetcher would; a failure is a Trial saying why."""
    started = clock.monotonic()
    status: int | None = None
    try:
        async with Retriever(config, clock=clock) as retriever:
            got = await retriever.fetch(url)
        status = got.status
        pool = parser_pool(1)
        try:
            loop = asyncio.get_running_loop()
            call = loop.run_in_executor(
                pool,
                parse_and_clean,
                got.body or b"",
                got.final_url,
                dict(got.headers),
                clock.now(),
            )
            parsed = await asyncio.wait_for(call, PARSE_TIMEOUT)
        except TimeoutError:
            raise FetchError("parse", "the parser took too long on this document") from None
        finally:
            await asyncio.to_thread(stop_pool, pool)
    except FetchError as exc:
        return Trial(
            url,
            False,
            clock.monotonic() - started,
            status=exc.status if exc.status is not None else status,
            error=str(exc),
        )
    return Trial(
        url,
        True,
        clock.monotonic() - started,
        status=got.status,
        final_url=got.final_url,
        title=parsed.title,
        count=len(parsed.entries),
        entries=parsed.entries[:SHOWN],
    )


__all__ = ["SHOWN", "Trial", "try_source"]
