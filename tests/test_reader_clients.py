"""Shared bylines and plain-text titles, as real feed clients show them (issue 12).

Three clients read the site feed, in RSS and in Atom, from a real server on
loopback: newsboat (Debian's package), the ``reader`` library (installed with
the test extras) and rss2email (Debian's package, run with a sendmail that
writes each message to a folder). For every item with a shared byline each
client must show every name, and every title exactly as written, markup-like
characters included.

Why one author holding the whole byline (see formats/rss.py and atom.py):
newsboat and reader keep only the last ``dc:creator`` and rss2email only the
first; reader and rss2email keep one Atom author (feedparser's
``author_detail``, the last). With several authors two of the three clients
lose names; with one author named "A, B and C" none does.
"""

from __future__ import annotations

import email
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from pathlib import Path

import pytest

from syndicate.records import parse_record
from syndicate.store import Store
from tests.support import running_server, write_config

FEEDS = ["/feed.rss", "/feed.atom"]

#: slug -> (title, authors): shared bylines of two and three (one of them in
#: Arabic), one author, none; titles that look like markup.
ARTICLES: dict[str, tuple[str, list[str]]] = {
    "two": ("C++ & <Rust> at the picket line", ["Simon Assaf", "سلمى حداد"]),
    "three": ("AT&T workers walk out", ["Salma Haddad", "José Martínez", "Zoë Øberg"]),
    "one": ('Tom & Jerry\'s "show" a < b > c', ["Simon Assaf"]),
    "none": ("Editorial: the strike wave", []),
}
SHARED = {slug: names for slug, (_, names) in ARTICLES.items() if len(names) > 1}


def byline(names: list[str]) -> str:
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("clients")
    config = write_config(folder)
    with Store.open(folder / "store.db") as store:
        for hour, (slug, (title, names)) in enumerate(ARTICLES.items()):
            record = {
                "slug": slug,
                "title": title,
                "standfirst": f"About {title}",
                "body": f"<p>{slug}</p>",
                "section": "news",
                "published": f"2026-03-0{hour + 1}T09:00:00Z",
                "authors": names,
            }
            store.upsert_article(parse_record(record, ["news", "comment"]), datetime.now(UTC))
    with running_server(config, "--workers", "1") as root:
        yield root


def slug_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def check_view(seen: dict[str, tuple[str, str]], client: str, path: str) -> None:
    """``seen`` is slug -> (title, authors as the client shows them)."""
    assert set(seen) == set(ARTICLES), (client, path, seen)
    for slug, (title, names) in ARTICLES.items():
        shown_title, shown_authors = seen[slug]
        assert shown_title == title, (client, path, slug)
        for name in names:
            assert name in shown_authors, (
                f"{client} {path}: {name!r} missing from {shown_authors!r}"
            )
        if names:
            assert shown_authors == byline(names), (client, path, slug)


@pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("path", FEEDS)
def test_newsboat_shows_every_name_of_a_shared_byline(site: str, tmp_path: Path, path: str):
    urls = tmp_path / "urls"
    urls.write_text(site + path + "\n")
    (tmp_path / "config").write_text("")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }
    command = ["newsboat", "-u", str(urls), "-c", str(tmp_path / "cache.db")]
    command += ["-C", str(tmp_path / "config"), "-x", "reload"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        rows = conn.execute("SELECT url, title, author FROM rss_item").fetchall()
    check_view({slug_of(url): (title, author) for url, title, author in rows}, "newsboat", path)


@pytest.mark.parametrize("path", FEEDS)
def test_the_reader_library_shows_every_name_of_a_shared_byline(
    site: str, tmp_path: Path, path: str
):
    from reader import make_reader

    reader = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        reader.add_feed(site + path)
        reader.update_feed(site + path)
        seen = {
            slug_of(e.link or ""): (e.title or "", e.authors_str or "")
            for e in reader.get_entries(feed=site + path)
        }
    finally:
        reader.close()
    check_view(seen, "reader", path)


def run_rss2email(feed: str, folder: Path) -> list[email.message.EmailMessage]:
    """rss2email's messages for ``feed``: its sendmail writes each one to a file."""
    mail = folder / "mail"
    mail.mkdir()
    sendmail = folder / "sendmail"
    sendmail.write_text(f'#!/bin/sh\ncat > "$(mktemp -p {mail} XXXXXXXX.eml)"\n')
    sendmail.chmod(0o755)
    config, data = folder / "rss2email.cfg", folder / "rss2email.json"
    env = {**os.environ, "HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
    base = ["r2e", "-c", str(config), "-d", str(data)]

    def r2e(*args: str) -> None:
        done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr

    r2e("new", "reader@example.test")
    text = config.read_text()
    assert "sendmail = /usr/sbin/sendmail" in text
    config.write_text(text.replace("sendmail = /usr/sbin/sendmail", f"sendmail = {sendmail}"))
    r2e("add", "paper", feed)
    r2e("run")
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(mail.glob("*.eml"))
    ]


@pytest.mark.skipif(
    shutil.which("r2e") is None, reason="rss2email is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("path", FEEDS)
def test_rss2email_shows_every_name_of_a_shared_byline(site: str, tmp_path: Path, path: str):
    messages = run_rss2email(site + path, tmp_path)
    seen: dict[str, tuple[str, str]] = {}
    for message in messages:
        sender = message["From"].addresses[0]
        assert isinstance(sender, Address)
        # rss2email names the sender "{feed title}: {author}".
        feed_title, _, author = sender.display_name.partition(": ")
        assert feed_title == "Test Weekly"
        seen[slug_of(str(message["X-RSS-URL"]))] = (str(message["Subject"]), author)
    if path.endswith(".atom"):  # the feed-level author stands in for a missing byline
        assert seen["none"][1] == "Test Weekly"
    check_view(seen, "rss2email", path)
