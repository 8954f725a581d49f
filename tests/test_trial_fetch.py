"""The trial fetch an editor runs before adding a source: the real fetcher's path, stored nowhere.

A real outside server on loopback; the SSRF guard refuses it unless the
config allows private addresses, as it would for the fetcher itself.
"""

from __future__ import annotations

from typing import Any

from syndicate.config import FetcherConfig
from syndicate.fetch.trial import try_source
from tests.outside_server import Outside


async def test_a_trial_shows_what_the_sidebar_would_get(aiohttp_server: Any):
    outside = await Outside.start(aiohttp_server)
    trial = await try_source(FetcherConfig(allow_private_addresses=True), outside.url("/feed.xml"))
    assert trial.ok, trial.error
    assert trial.status == 200
    assert trial.title == "Outside News"
    assert trial.count == 2
    assert [e.title for e in trial.entries] == ["First story", "Second story"]


async def test_a_trial_goes_through_the_ssrf_guard(aiohttp_server: Any):
    outside = await Outside.start(aiohttp_server)
    trial = await try_source(FetcherConfig(), outside.url("/feed.xml"))
    assert not trial.ok
    assert trial.error is not None
    assert trial.error.startswith("ssrf:")
    assert outside.requests == []  # refused before any connection


async def test_a_failing_feed_says_why(aiohttp_server: Any):
    outside = await Outside.start(aiohttp_server)
    allowed = FetcherConfig(allow_private_addresses=True)
    missing = await try_source(allowed, outside.url("/status/404"))
    assert not missing.ok
    assert missing.status == 404
    page = await try_source(allowed, outside.url("/html"))
    assert not page.ok
    assert page.error is not None
