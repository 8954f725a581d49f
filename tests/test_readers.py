"""Real feed readers against a real server: newsboat and the `reader` library.

Each subscribes to site, section and author feeds in Atom and RSS, reloads
three times, must see every item exactly once with its title, link and
every name of its byline, and its later conditional requests must be answered 304.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.config import load_config
from syndicate.store import SITE, Scope, Store
from tests.support import fill_store, running_server, write_config

FEEDS = [
    (SITE, "/feed.atom"),
    (SITE, "/feed.rss"),
    (Scope("section", "news"), "/sections/news/feed.atom"),
    (Scope("section", "comment"), "/sections/comment/feed.rss"),
    (Scope("author", "simon-assaf"), "/authors/simon-assaf/feed.atom"),
    (Scope("author", "simon-assaf"), "/authors/simon-assaf/feed.rss"),
]


def responses(root: str) -> dict[int, int]:
    with urllib.request.urlopen(root + "/metrics") as response:
        text = response.read().decode()
    return {
        int(m.group(1)): int(m.group(2))
        for m in re.finditer(r'syndicate_feed_responses_total\{status="(\d+)"\} (\d+)', text)
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("readers")
    config = write_config(folder)
    fill_store(folder / "store.db", 120)
    with running_server(config, "--workers", "1") as root:
        yield root, load_config(config)


def byline(names: list[str]) -> str:
    """A shared byline as the feeds write it: one author, every name (see rss.py, atom.py)."""
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def expected(config, scope: Scope) -> list[tuple[str, str, str, str]]:
    """(id, title, link, authors) of what the first page of a feed must hold."""
    with Store.open(config.store_path) as store:
        articles = store.latest(scope, datetime.now(UTC), config.feeds.items)
    root = config.site.root
    return [
        (
            f"tag:{config.site.tag_authority}:article:{a.id}",
            a.title,
            root + config.site.article_path.format(slug=a.slug, id=a.id),
            byline([author.name for author in a.authors]),
        )
        for a in articles
    ]


@pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize(("scope", "path"), FEEDS, ids=[p for _, p in FEEDS])
def test_newsboat_sees_every_item_once_and_gets_304s(
    server, tmp_path: Path, scope: Scope, path: str
):
    root, config = server
    urls = tmp_path / "urls"
    urls.write_text(root + path + "\n")
    (tmp_path / "config").write_text("")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }
    before = responses(root)
    for _ in range(3):
        done = subprocess.run(
            [
                "newsboat",
                "-u",
                str(urls),
                "-c",
                str(tmp_path / "cache.db"),
                "-C",
                str(tmp_path / "config"),
                "-x",
                "reload",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    after = responses(root)
    conn = sqlite3.connect(tmp_path / "cache.db")
    rows = conn.execute(
        "SELECT guid, title, url, author FROM rss_item ORDER BY pubDate DESC, id"
    ).fetchall()
    want = expected(config, scope)
    assert len(rows) == len(want) == len({r[0] for r in rows})
    assert sorted(r[:3] for r in rows) == sorted(w[:3] for w in want)
    bylines = {w[0]: w[3] for w in want}
    for guid, _, _, author in rows:
        # Every name of a shared byline, in both formats (newsboat keeps only the
        # last of several <dc:creator>s, so the byline is one).
        assert author == bylines[guid]
    # newsboat revalidates from its third reload on: that request must be a 304.
    assert after.get(304, 0) - before.get(304, 0) >= 1


def test_reader_library_sees_every_item_once_and_gets_304s(server, tmp_path: Path):
    from reader import make_reader

    root, config = server
    reader = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        for _, path in FEEDS:
            reader.add_feed(root + path)
        before = responses(root)
        for _ in range(3):
            for _, path in FEEDS:
                reader.update_feed(root + path)
        after = responses(root)
        for scope, path in FEEDS:
            entries = list(reader.get_entries(feed=root + path))
            want = expected(config, scope)
            got = [
                (e.id, e.title, e.link, ", ".join(a for a in [e.authors_str] if a)) for e in entries
            ]
            assert len(got) == len(want) == len({g[0] for g in got}), path
            assert sorted(g[:3] for g in got) == sorted(w[:3] for w in want), path
            bylines = {w[0]: w[3] for w in want}
            for entry in entries:  # every name of a shared byline, in both formats
                assert entry.authors_str == bylines[entry.id], path
        # The second and third updates revalidate every feed with its ETag.
        assert after.get(304, 0) - before.get(304, 0) >= 2 * len(FEEDS)
        assert after.get(200, 0) - before.get(200, 0) == len(FEEDS)
    finally:
        reader.close()
