"""Serve only what parses: a build that is not well-formed never replaces good bytes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from lxml import etree

from syndicate.catalog import DocKey
from syndicate.documents.checks import problem
from syndicate.documents.rendered import Rendered
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.watch import EVERYTHING
from syndicate.web.keys import CACHE
from tests.support import sample_record
from tests.test_admin import client, config, logged_in, outside  # noqa: F401 (fixtures)


def breaking(builder: Any) -> Any:
    """The cache's builder, but every feed comes out cut off before its end."""

    def build(key: DocKey, now: datetime) -> Rendered:
        good = builder(key, now)
        if key.doc != "feed":
            return good
        cut = good.body[: len(good.body) // 2]
        return Rendered(cut, good.content_type, good.last_modified, good.headers)

    return build


@pytest.mark.parametrize(
    ("content_type", "body", "bad"),
    [
        ("application/atom+xml; charset=utf-8", b"<feed><entry></feed>", True),
        ("application/rss+xml; charset=utf-8", b"<rss><channel/></rss>", False),
        ("text/x-opml; charset=utf-8", b"<opml><body>", True),
        ("application/feed+json; charset=utf-8", b'{"items": [', True),
        ("application/json; charset=utf-8", b"{}", False),
        ("text/html; charset=utf-8", b"<p>unclosed", False),  # no strict HTML parser: not judged
    ],
)
def test_the_check_reads_xml_and_json_strictly(content_type: str, body: bytes, bad: bool):
    rendered = Rendered(body, content_type, None, {})
    assert (problem(DocKey("feed", "atom"), rendered) is not None) is bad


async def test_a_broken_rebuild_keeps_the_last_good_bytes_and_says_so(
    client: Any,  # noqa: F811
    config: Any,  # noqa: F811
):
    cache = client.server.app[CACHE]
    good = await client.get("/feed.atom")
    assert good.status == 200
    good_body, good_etag = await good.read(), good.headers["ETag"]
    original = cache.build
    cache.build = breaking(original)
    with Store.open(config.store_path) as store:  # a publish: the feed must be rebuilt
        store.upsert_article(parse_record(sample_record(99), ["news", "comment"]), datetime.now())
    served = await client.get("/feed.atom")
    assert served.status == 200
    assert await served.read() == good_body, "the last good bytes, not the broken build"
    assert served.headers["ETag"] == good_etag
    etree.fromstring(good_body, etree.XMLParser(recover=False))
    # Never built before and broken now: nothing to fall back on, so 503, not bad bytes.
    fresh = await client.get("/feed.rss")
    assert fresh.status == 503
    assert fresh.headers["Retry-After"].isdigit()
    json_feed = await client.get("/feed.json")
    assert json_feed.status == 503
    metrics = await (await client.get("/metrics")).text()
    assert "syndicate_broken_builds_total 3" in metrics
    await logged_in(client)
    page = await (await client.get("/admin")).text()
    assert "did not build into valid feeds" in page
    assert "feed atom site" in page
    # Fixed: the next rebuild is served again.
    cache.build = original
    cache.invalidate(EVERYTHING)
    again = await client.get("/feed.json")
    assert again.status == 200
    json.loads(await again.read())
