"""The fetcher end to end: a real misbehaving server, real parsing, a real store."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.clock import ManualClock
from syndicate.config import Config, parse_config
from syndicate.fetch.runner import FetchRunner, parser_pool
from syndicate.store import Store
from syndicate.store.sources import Sources
from tests.outside_server import Document, Outside
from tests.support import MINIMAL_CONFIG

DATA = Path(__file__).parent / "data" / "outside"


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    found = await Outside.start(aiohttp_server)
    found.documents["/hostile.xml"] = Document((DATA / "hostile.xml").read_bytes())
    found.documents["/xxe.xml"] = Document((DATA / "xxe.xml").read_bytes())
    found.documents["/bomb.xml"] = Document((DATA / "billion-laughs.xml").read_bytes())
    found.documents["/atom.xml"] = Document(
        (DATA / "atom-xmlbase.xml").read_bytes(), content_type="application/atom+xml"
    )
    found.documents["/feed.json"] = Document(
        (DATA / "jsonfeed-1.1.json").read_bytes(), content_type="application/feed+json"
    )
    return found


SOURCES = {
    "Good": "/feed.xml",
    "Atom": "/atom.xml",
    "Json": "/feed.json",
    "Hostile": "/hostile.xml",
    "Gone": "/status/410",
    "Missing": "/status/404",
    "Broken": "/status/500",
    "Moved": "/redirect/301/feed.xml",
    "Found": "/redirect/302/feed.xml",
    "Html": "/html",
    "Huge": "/big?size=9000000",
    "Xxe": "/xxe.xml",
    "Bomb": "/bomb.xml",
}


def write_config(folder: Path, outside: Outside, sources: dict[str, str] = SOURCES) -> Config:
    blocks = "".join(
        f'\n[[sidebar.sources]]\nname = "{name}"\nurl = "{outside.url(path)}"\n'
        for name, path in sources.items()
    )
    text = (
        MINIMAL_CONFIG
        + "\n[fetcher]\nallow_private_addresses = true\ntimeout = 5\nmax_body_bytes = 1000000\n"
        + "\n[sidebar]\nitems = 50\nmax_per_source = 20\n"
        + blocks
    )
    path = folder / "config.toml"
    path.write_text(text)
    return parse_config(text, path)


def rows(config: Config) -> dict[str, Any]:
    with Store.open(config.store_path) as store:
        return {row.name: row for row in Sources(store).all()}


def titles(config: Config, name: str) -> list[str]:
    with Store.open(config.store_path) as store:
        return [
            r[0]
            for r in store.conn.execute(
                "SELECT e.title FROM sidebar_entries e JOIN sources s ON s.id = e.source_id "
                "WHERE s.name = ? ORDER BY e.published DESC, e.id DESC",
                (name,),
            )
        ]


async def run(config: Config, everything: bool = False, **kwargs: Any):
    with Store.open(config.store_path) as store:
        return await FetchRunner(config, store, **kwargs).run(everything=everything)


async def test_each_source_fails_alone_with_its_error_recorded(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside)
    reports = {r.name: r for r in await run(config)}
    assert len(reports) == len(SOURCES)
    state = rows(config)
    assert reports["Good"].new == 2
    assert titles(config, "Good") == ["Second story", "First story"]
    assert reports["Atom"].new > 0
    assert reports["Json"].new > 0
    assert state["Gone"].retired
    assert "410" in (state["Gone"].last_error or "")
    for name, status in (("Missing", 404), ("Broken", 500)):
        assert state[name].failures == 1
        assert state[name].last_status == status
        assert state[name].next_fetch is not None
    assert state["Moved"].current_url == outside.url("/feed.xml")
    assert state["Found"].current_url is None
    assert state["Html"].last_error
    assert state["Huge"].last_error.startswith("size")
    assert not titles(config, "Missing")


async def test_hostile_feed_is_stored_as_plain_text(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Hostile": "/hostile.xml"})
    await run(config)
    stored = titles(config, "Hostile")
    assert stored
    for title in stored:
        assert "<" not in title
        assert "\u202e" not in title
        assert "\u2066" not in title
    with Store.open(config.store_path) as store:
        links = [r[0] for r in store.conn.execute("SELECT link FROM sidebar_entries")]
    assert all(link.startswith(("http://", "https://")) for link in links)
    assert not any("javascript" in link for link in links)


async def test_xxe_and_entity_bombs_leak_and_expand_nothing(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Xxe": "/xxe.xml", "Bomb": "/bomb.xml"})
    await run(config)
    with Store.open(config.store_path) as store:
        text = " ".join(r[0] for r in store.conn.execute("SELECT title FROM sidebar_entries"))
    assert "root:" not in text
    assert len(text) < 100_000


async def test_second_run_is_conditional_and_parses_nothing(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Good": "/feed.xml", "Atom": "/atom.xml"})
    await run(config)
    outside.reset()
    reports = await run(config, everything=True)
    assert {r.outcome for r in reports} == {"not modified"}
    assert all(r.conditional for r in outside.requests)
    assert outside.statuses[304] == 2


async def test_not_due_sources_are_not_fetched_and_retired_never(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Good": "/feed.xml", "Gone": "/status/410"})
    await run(config)
    outside.reset()
    assert await run(config) == []  # nothing due yet
    reports = await run(config, everything=True)
    assert [r.name for r in reports] == ["Good"]
    with Store.open(config.store_path) as store:
        assert Sources(store).enable("Gone")
    outside.reset()
    assert {r.name for r in await run(config)} == {"Gone"}


async def test_dates_and_durations_come_from_the_clock_given(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Good": "/feed.xml"})
    clock = ManualClock(datetime(2031, 1, 1, 12, tzinfo=UTC))
    reports = await run(config, clock=clock)
    assert [(r.name, r.outcome, r.seconds) for r in reports] == [("Good", "updated", 0.0)]
    row = rows(config)["Good"]
    assert row.last_fetch == clock.now()
    assert row.next_fetch is not None
    assert row.next_fetch >= clock.now() + timedelta(seconds=config.sidebar.refresh_interval)
    assert await run(config, clock=clock) == []  # not due yet by this clock
    clock.advance(timedelta(days=2))
    assert [r.outcome for r in await run(config, clock=clock)] == ["not modified"]


async def test_failure_keeps_stored_entries(outside: Outside, tmp_path: Path):
    config = write_config(tmp_path, outside, {"Good": "/feed.xml"})
    await run(config)
    outside.documents["/feed.xml"] = Document(
        b"<html>oops, not a feed</html>", content_type="text/html"
    )
    reports = await run(config, everything=True)
    assert reports[0].outcome == "failed"
    assert titles(config, "Good") == ["Second story", "First story"]
    assert rows(config)["Good"].failures == 1


async def test_parsing_happens_in_a_separate_process(outside: Outside, tmp_path: Path):
    sources = {"Good": "/feed.xml", "Json": "/feed.json", "Html": "/html", "Bomb": "/bomb.xml"}
    config = write_config(tmp_path, outside, sources)
    with parser_pool() as pool:
        reports = {r.name: r for r in await run(config, pool=pool)}
    assert reports["Good"].outcome == reports["Json"].outcome == "updated"
    assert reports["Html"].outcome == "failed"
    assert reports["Html"].error.startswith("parse: not a feed")


async def test_fetch_command_prints_a_table_and_exits_0_despite_failures(
    outside: Outside, tmp_path: Path
):
    config = write_config(tmp_path, outside, {"Good": "/feed.xml", "Missing": "/status/404"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syndicate",
        "--config",
        str(config.source),
        "fetch",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "source" in text.splitlines()[0]
    assert "status" in text.splitlines()[0]
    assert "Good" in text
    assert "404" in text
    assert "2 source(s) fetched, 1 failed" in text
    # stderr is a pipe here, not a terminal: no progress line (a cron mail stays clean).
    assert "fetching" not in err.decode()
    assert err.decode().strip() == ""


async def test_sidebar_shows_fetched_entries(outside: Outside, tmp_path: Path, aiohttp_client: Any):
    from syndicate.web.app import make_app
    from tests.support import fill_store

    config = write_config(tmp_path, outside, {"Good": "/feed.xml"})
    fill_store(config.store_path, 3)
    client = await aiohttp_client(make_app(config))
    empty = await (await client.get("/latest-news.json")).json()
    assert empty["items"] == []
    await run(config)
    items = (await (await client.get("/latest-news.json")).json())["items"]
    assert [i["title"] for i in items] == ["Second story", "First story"]
    assert items[0]["source"] == "Good"


def test_sources_opml_round_trip(tmp_path: Path):
    from tests.support import run_cli

    config = tmp_path / "config.toml"
    config.write_text(MINIMAL_CONFIG)
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        '<outline text="Folder"><outline text="Wire &amp; Co" xmlUrl="https://wire.example/rss"/>'
        '<outline text="Other" xmlUrl="https://other.example/atom"/></outline>'
        "</body></opml>"
    )
    added = run_cli("--config", str(config), "sources", "import", str(opml))
    assert added.returncode == 0, added.stderr
    assert "2 source(s) added" in added.stdout
    again = run_cli("--config", str(config), "sources", "import", str(opml))
    assert "Nothing to add" in again.stdout
    exported = run_cli("--config", str(config), "sources", "export")
    assert 'xmlUrl="https://wire.example/rss"' in exported.stdout
    assert 'text="Wire &amp; Co"' in exported.stdout
    bad = tmp_path / "bad.opml"
    bad.write_text("<html/>")
    refused = run_cli("--config", str(config), "sources", "import", str(bad))
    assert refused.returncode == 1
    assert "not <opml>" in refused.stderr
    assert run_cli("--config", str(config), "check").stderr.count("sidebar") == 0


DOCUMENTS = sorted(p.name for p in DATA.iterdir() if p.is_file())


@pytest.mark.parametrize("name", DOCUMENTS)
async def test_every_sample_document_through_the_whole_pipeline(
    outside: Outside, tmp_path: Path, name: str
):
    """Served over HTTP, fetched, parsed in the pool, stored: the stored entries are
    exactly what parse+clean make of the bytes, or the error they raise is recorded."""
    from datetime import UTC, datetime

    from syndicate.fetch.clean import clean
    from syndicate.fetch.parse import parse
    from syndicate.fetch.types import FetchError

    body = (DATA / name).read_bytes()
    kinds = {".json": "application/feed+json", ".html": "text/html", ".rdf": "application/rdf+xml"}
    kind = kinds.get(Path(name).suffix, "application/xml")
    outside.documents[f"/doc/{name}"] = Document(body, content_type=kind)
    config = write_config(tmp_path, outside, {"Doc": f"/doc/{name}"})
    reports = await run(config)
    url = outside.url(f"/doc/{name}")
    problem: str | None = None
    try:
        expected = clean(
            parse(body, url=url, headers={"content-type": kind}), fetched_at=datetime.now(UTC)
        )
    except FetchError as exc:
        problem, expected = str(exc), []
    if problem is not None:
        assert reports[0].outcome == "failed"
        assert rows(config)["Doc"].last_error == problem
        assert titles(config, "Doc") == []
        return
    if not expected:  # a valid feed with nothing in it is a success (issue 12, point 13)
        assert (reports[0].outcome, reports[0].error) == ("updated", None)
        assert rows(config)["Doc"].failures == 0
        return
    assert reports[0].outcome == "updated", reports[0].error
    assert sorted(titles(config, "Doc")) == sorted(e.title for e in expected)


# -- issue 12, point 16: the source's language on each sidebar item -----------------


async def test_each_sources_language_is_kept_and_given_to_its_sidebar_items(
    outside: Outside, tmp_path: Path, aiohttp_client: Any
):
    from lxml import html as lxml_html

    from syndicate.web.app import make_app
    from tests.test_fetch_parse import FRENCH_ATOM

    outside.documents["/arabic.xml"] = Document((DATA / "arabic.xml").read_bytes())
    outside.documents["/french.atom"] = Document(FRENCH_ATOM, content_type="application/atom+xml")
    config = write_config(
        tmp_path, outside, {"Arabic": "/arabic.xml", "French": "/french.atom", "Plain": "/feed.xml"}
    )
    await run(config)
    state = rows(config)
    assert (state["Arabic"].language, state["French"].language) == ("ar", "fr-FR")
    assert state["Plain"].language is None

    client = await aiohttp_client(make_app(config))
    items = (await (await client.get("/latest-news.json")).json())["items"]
    langs = {i["title"]: (i["lang"], i["dir"]) for i in items}
    assert langs["انتخابات جديدة في البلاد"] == ("ar", "rtl")
    assert langs["Grève des cheminots : le trafic perturbé"] == ("fr-FR", "ltr")
    assert langs["An English dispatch in a French feed"] == ("en", "ltr")  # its own xml:lang
    assert langs["Ein Titel auf Deutsch"] == ("de", "ltr")
    assert langs["First story"] == (None, "auto")  # no language declared

    page = lxml_html.fragment_fromstring(await (await client.get("/latest-news")).text())
    titles_html = {
        bdi.text: (bdi.get("lang"), bdi.get("dir"))
        for bdi in page.xpath(".//li/*[@class='latest-news-link']/bdi")
    }
    assert titles_html["مدينة القدس"] == ("ar", "rtl")
    assert titles_html["Grève des cheminots : le trafic perturbé"] == ("fr-FR", "ltr")
    assert titles_html["An English dispatch in a French feed"] == ("en", "ltr")
    assert titles_html["Second story"] == (None, None)
    # Only the title: the source's name and "5 minutes ago" are the site's words.
    assert not page.xpath(".//li[@lang or @dir]")
    assert not page.xpath(".//span[@class='latest-news-source']/bdi[@lang or @dir]")


async def test_a_change_of_language_alone_changes_the_sidebar(outside: Outside, tmp_path: Path):
    body = (DATA / "arabic.xml").read_bytes()
    outside.documents["/arabic.xml"] = Document(body)
    config = write_config(tmp_path, outside, {"Arabic": "/arabic.xml"})
    await run(config)

    def changes() -> int:
        with Store.open(config.store_path) as store:
            return int(store.conn.execute("SELECT COUNT(*) FROM feed_changes").fetchone()[0])

    before = changes()
    outside.documents["/arabic.xml"] = Document(body.replace(b"<language>ar</language>", b""))
    (report,) = await run(config, everything=True)
    assert (report.outcome, report.new, report.updated) == ("updated", 0, 0)
    assert rows(config)["Arabic"].language is None
    assert changes() == before + 1, "the items' lang and dir change: the sidebar is rebuilt"
    (report,) = await run(config, everything=True)  # the same again: 304, nothing
    assert changes() == before + 1


@pytest.mark.parametrize(
    ("lang", "direction"),
    [
        ("ar", "rtl"),
        ("ar-EG", "rtl"),
        ("he", "rtl"),
        ("fa-IR", "rtl"),
        ("ur", "rtl"),
        ("ps", "rtl"),
        ("sd", "rtl"),
        ("ug", "rtl"),
        ("yi", "rtl"),
        ("dv", "rtl"),
        ("ckb-IQ", "rtl"),
        ("pa-Arab", "rtl"),  # the script decides when the tag names one
        ("az-Arab-IR", "rtl"),
        ("ar-Latn", "ltr"),
        ("sd-Deva", "ltr"),
        ("zh-yue-Hant", "ltr"),
        ("en-US", "ltr"),
        ("fr-FR", "ltr"),
        ("ku", "ltr"),  # Kurmanji, written in Latin letters; Sorani is ckb
        (None, None),
        ("", None),
    ],
)
def test_text_direction(lang: str | None, direction: str | None):
    from syndicate.documents.sidebar import text_direction

    assert text_direction(lang) == direction
