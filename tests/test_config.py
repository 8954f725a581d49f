"""config.toml: every problem comes back as "key.path: what is wrong", all at once."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import (
    CONFIG_ENV,
    Config,
    ConfigError,
    FeedsConfig,
    FetcherConfig,
    ServerConfig,
    SidebarConfig,
    SiteConfig,
    SourceConfig,
    StoreConfig,
    load_config,
    parse_config,
)
from syndicate.configdocs import documented_keys

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config.toml"

# -- building configs ------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A Python value as TOML; tables become inline tables, so any nesting works."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(table: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in table.items())


def minimal() -> dict[str, Any]:
    return {
        "site": {
            "title": "Test Weekly",
            "base_url": "https://example.org",
            "tag_authority": "example.org,2026",
        }
    }


def full() -> dict[str, Any]:
    """A config using every table, with two sections and two sources."""
    table = minimal()
    table["sections"] = [
        {"slug": "news", "title": "News"},
        {"slug": "comment", "title": "Comment", "description": "Opinion"},
    ]
    table["sidebar"] = {
        "sources": [
            {"name": "One", "url": "https://one.example/feed"},
            {"name": "Two", "url": "https://two.example/feed", "max_items": 5},
        ]
    }
    table["server"] = {"port": 8080}
    table["feeds"] = {"items": 20}
    table["fetcher"] = {"timeout": 20}
    table["store"] = {"path": "store.db"}
    table["digests"] = [
        {"slug": "morning", "title": "Morning", "time_zone": "Europe/London"},
        {"slug": "weekly", "title": "Week", "schedule": "weekly", "day": "friday", "time": "17:30"},
    ]
    return table


_MISSING = object()


def with_key(table: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``table`` with the key at ``path`` ("sections[1].slug") set or removed."""
    table = copy.deepcopy(table)
    parts: list[Any] = [
        int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)
    ]
    node: Any = table
    for part in parts[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    if value is _MISSING:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return table


def parse(table: dict[str, Any]) -> Config:
    return parse_config(to_toml(table))


def problems_of(text_or_table: str | dict[str, Any]) -> list[str]:
    text = text_or_table if isinstance(text_or_table, str) else to_toml(text_or_table)
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.problems, "a ConfigError must say what is wrong"
    return caught.value.problems


def only_problem(text_or_table: str | dict[str, Any]) -> str:
    problems = problems_of(text_or_table)
    assert len(problems) == 1, problems
    return problems[0]


# -- happy paths -------------------------------------------------------------------


def test_shipped_config_loads_cleanly():
    config = load_config(SHIPPED)
    assert config.site.title == "The Weekly Worker"
    assert config.site.tag_authority == "weeklyworker.example,2026"
    assert config.site.language == "en-GB"
    # The demo shows every kind of table: sections and outside sources included.
    assert config.sections
    assert "news" in [s.slug for s in config.sections]
    assert config.sidebar.sources
    assert config.fetcher.allow_private_addresses is True  # its sources are on 127.0.0.1
    assert config.store_path == REPO / "data" / "syndicate.db"
    assert config.source.resolve() == SHIPPED


def test_minimal_config_gets_every_default():
    config = parse(minimal())
    assert config.site == SiteConfig(
        title="Test Weekly", base_url="https://example.org", tag_authority="example.org,2026"
    )
    assert config.site.language == "en"
    assert config.site.article_path == "/articles/{slug}"
    assert config.store == StoreConfig()
    assert config.store.path == Path("data/syndicate.db")
    assert config.server == ServerConfig()
    assert (config.server.host, config.server.port, config.server.workers) == ("127.0.0.1", 8080, 0)
    assert config.feeds == FeedsConfig()
    assert (config.feeds.items, config.feeds.content, config.feeds.max_age) == (50, "full", 300)
    assert config.sections == ()
    assert config.sidebar == SidebarConfig()
    assert config.sidebar.sources == ()
    assert config.fetcher == FetcherConfig()
    assert config.fetcher.allow_private_addresses is False


def test_omitted_optional_keys_inside_a_table_get_defaults():
    config = parse(full())
    assert config.server.host == "127.0.0.1"
    assert config.feeds.content == "full"
    assert config.sections[0].description == ""
    assert config.sidebar.items == 10
    first, second = config.sidebar.sources
    assert first == SourceConfig(name="One", url="https://one.example/feed")
    assert (first.max_items, first.min_interval, first.enabled) == (0, 0, True)
    assert second.max_items == 5


def test_values_come_through_typed():
    table = full()
    table["fetcher"] = {"timeout": 20, "connect_timeout": 2.5}
    table["site"]["base_url"] = "https://example.org/paper/"
    config = parse(table)
    assert config.fetcher.timeout == 20.0
    assert type(config.fetcher.timeout) is float
    assert config.fetcher.connect_timeout == 2.5
    assert isinstance(config.sections, tuple)
    assert isinstance(config.sidebar.sources, tuple)
    assert isinstance(config.store.path, Path)
    assert config.site.root == "https://example.org/paper"
    assert config.section("comment") == config.sections[1]
    assert config.section("sport") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.site.title = "Changed"  # type: ignore[misc]


def test_real_toml_tables_and_arrays_of_tables():
    text = """
[site]
title = "T"
base_url = "http://127.0.0.1:8080"
tag_authority = "editor@example.org,2026-03-04"

[[sections]]
slug = "news"
title = "News"

[[sidebar.sources]]
name = "Elsewhere"
url = "https://elsewhere.example/rss"
enabled = false
"""
    config = parse_config(text)
    assert config.sections[0].slug == "news"
    assert config.sidebar.sources[0].enabled is False


# -- the file itself -----------------------------------------------------------------


def test_not_toml_reports_the_position():
    problem = only_problem('[site]\ntitle = "T"\nbase_url = https://example.org\n')
    assert problem.startswith("not valid TOML: ")
    assert "line 3" in problem
    assert re.search(r"line 3, column \d+", problem)


@pytest.mark.parametrize(
    "text",
    [
        "[site\n",
        '[site]\ntitle = "a"\ntitle = "b"\n',
        "= 1\n",
        '[site]\ntitle = "unterminated\n',
        "\ufeff[site]\n",
    ],
)
def test_any_toml_syntax_error_is_one_problem(text):
    problem = only_problem(text)
    assert problem.startswith("not valid TOML: ")
    assert re.search(r"line \d+, column \d+", problem)


def test_file_not_found(tmp_path):
    path = tmp_path / "nowhere" / "config.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == ["file not found"]
    assert caught.value.path == path
    assert str(path) in str(caught.value)


def test_undecodable_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'[site]\ntitle = "caf\xe9"\n')  # Latin-1, not UTF-8
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem.startswith("cannot be read: ")
    assert "utf-8" in problem.lower()
    assert caught.value.path == path


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    [problem] = caught.value.problems
    assert problem.startswith("cannot be read: ")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(to_toml(minimal()), encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(ConfigError) as caught:
            load_config(path)
    finally:
        path.chmod(0o644)
    [problem] = caught.value.problems
    assert problem.startswith("cannot be read: ")


def test_problems_in_a_file_carry_its_path(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(to_toml(with_key(minimal(), "server.port", 70000)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.path == path
    assert caught.value.problems == ["server.port: must be at most 65535, got 70000"]
    report = caught.value.report()
    assert report.splitlines() == [
        f"{path}: 1 problem(s):",
        "  - server.port: must be at most 65535, got 70000",
    ]
    assert str(caught.value) == f"{path}: server.port: must be at most 65535, got 70000"


# -- required keys and tables ------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "[server]\nport = 8080\n"])
def test_missing_site_table(text):
    assert problems_of(text) == ["site: missing (required table)"]


@pytest.mark.parametrize("key", ["site.title", "site.base_url", "site.tag_authority"])
def test_missing_required_site_key(key):
    assert only_problem(with_key(minimal(), key, _MISSING)) == f"{key}: missing (required key)"


@pytest.mark.parametrize(
    "key",
    [
        "sections[0].slug",
        "sections[0].title",
        "sections[1].slug",
        "sections[1].title",
        "sidebar.sources[0].name",
        "sidebar.sources[1].url",
    ],
)
def test_missing_required_key_in_an_array_of_tables(key):
    assert only_problem(with_key(full(), key, _MISSING)) == f"{key}: missing (required key)"


def test_every_missing_required_key_is_reported():
    table = {"site": {}, "sections": [{}], "sidebar": {"sources": [{}]}}
    assert sorted(problems_of(table)) == sorted(
        [
            "site.title: missing (required key)",
            "site.base_url: missing (required key)",
            "site.tag_authority: missing (required key)",
            "sections[0].slug: missing (required key)",
            "sections[0].title: missing (required key)",
            "sidebar.sources[0].name: missing (required key)",
            "sidebar.sources[0].url: missing (required key)",
        ]
    )


# -- unknown keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "a_known_key"),
    [
        ("colour", "sidebar"),
        ("site.titel", "title"),
        ("store.file", "path"),
        ("server.threads", "workers"),
        ("feeds.count", "items"),
        ("sections[0].name", "slug"),
        ("sections[1].colour", "description"),
        ("sidebar.limit", "max_per_source"),
        ("sidebar.sources[0].nmae", "name"),
        ("sidebar.sources[1].interval", "min_interval"),
        ("fetcher.timeot", "timeout"),
    ],
)
def test_unknown_key_is_named_with_its_path(key, a_known_key):
    problem = only_problem(with_key(full(), key, 1))
    assert problem.startswith(f"{key}: unknown key (known keys: ")
    known = problem.removeprefix(f"{key}: unknown key (known keys: ").removesuffix(")")
    assert a_known_key in known.split(", ")


def test_unknown_keys_written_as_toml_tables():
    text = to_toml(minimal()) + (
        "[fetcher]\nretries = 3\n"
        '[[sections]]\nslug = "news"\ntitle = "News"\nsubtitle = "x"\n'
        '[[sidebar.sources]]\nname = "A"\nurl = "https://a.example/"\ncolour = "red"\n'
        "[sidebar.extra]\nx = 1\n"
    )
    keys = sorted(p.split(":")[0] for p in problems_of(text))
    assert keys == sorted(
        ["fetcher.retries", "sections[0].subtitle", "sidebar.sources[0].colour", "sidebar.extra"]
    )


def test_known_keys_list_leaves_out_internal_fields():
    problem = only_problem(with_key(minimal(), "extra", 1))
    assert "source" not in problem
    assert problem == (
        "extra: unknown key (known keys: "
        "cache, digests, feeds, fetcher, sections, server, sidebar, site, store, websub)"
    )


# -- wrong types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("server.port", "8080", "server.port: must be an integer, got a string"),
        ("server.port", True, "server.port: must be an integer, got a boolean"),
        ("feeds.items", False, "feeds.items: must be an integer, got a boolean"),
        ("feeds.items", 20.0, "feeds.items: must be an integer, got a number"),
        ("server.port", [8080], "server.port: must be an integer, got an array"),
        ("server.port", {"n": 1}, "server.port: must be an integer, got a table"),
        ("site.title", 5, "site.title: must be a string, got an integer"),
        ("site.base_url", True, "site.base_url: must be a string, got a boolean"),
        ("site.language", ["en"], "site.language: must be a string, got an array"),
        ("sections[0].slug", 1, "sections[0].slug: must be a string, got an integer"),
        ("sidebar.sources[1].url", 3.5, "sidebar.sources[1].url: must be a string, got a number"),
        ("fetcher.timeout", "30", "fetcher.timeout: must be a number, got a string"),
        ("fetcher.timeout", True, "fetcher.timeout: must be a number, got a boolean"),
        (
            "fetcher.allow_private_addresses",
            1,
            "fetcher.allow_private_addresses: must be true or false, got an integer",
        ),
        (
            "sidebar.sources[0].enabled",
            "no",
            "sidebar.sources[0].enabled: must be true or false, got a string",
        ),
        ("store.path", 5, "store.path: must be a non-empty path string, got an integer"),
        ("store.path", "", "store.path: must be a non-empty path string, got a string"),
        ("site", "The Weekly", "site: must be a table, got a string"),
        ("site", [{"title": "x"}], "site: must be a table, got an array"),
        ("server", 8080, "server: must be a table, got an integer"),
        ("sidebar", [], "sidebar: must be a table, got an array"),
        ("sections", {"slug": "news"}, "sections: must be an array of tables, got a table"),
        ("sections", "news", "sections: must be an array of tables, got a string"),
        (
            "sidebar.sources",
            {"name": "x"},
            "sidebar.sources: must be an array of tables, got a table",
        ),
        ("sections[1]", "comment", "sections[1]: must be a table, got a string"),
        ("sections[0]", ["news"], "sections[0]: must be a table, got an array"),
    ],
)
def test_wrong_type(key, value, expected):
    assert only_problem(with_key(full(), key, value)) == expected


def test_wrong_type_from_toml_dates_and_times():
    problem = only_problem(with_key(full(), "server.port", dt.date(1979, 5, 27)))
    assert problem.startswith("server.port: must be an integer, got ")
    problem = only_problem(with_key(full(), "site.title", dt.time(7, 32)))
    assert problem.startswith("site.title: must be a string, got ")


def test_table_where_array_expected_written_as_toml():
    text = to_toml(minimal()) + '[sections]\nslug = "news"\ntitle = "News"\n'
    assert problems_of(text) == ["sections: must be an array of tables, got a table"]


def test_array_where_table_expected_written_as_toml():
    text = (
        '[[site]]\ntitle = "T"\nbase_url = "https://example.org"\n'
        'tag_authority = "example.org,2026"\n'
    )
    assert problems_of(text) == ["site: must be a table, got an array"]


# -- ranges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("server.port", 70000, "server.port: must be at most 65535, got 70000"),
        ("server.port", -1, "server.port: must be at least 0, got -1"),
        ("server.workers", 65, "server.workers: must be at most 64, got 65"),
        ("feeds.items", 0, "feeds.items: must be at least 1, got 0"),
        ("feeds.items", 501, "feeds.items: must be at most 500, got 501"),
        ("feeds.max_age", -1, "feeds.max_age: must be at least 0, got -1"),
        (
            "feeds.stale_while_revalidate",
            86401,
            "feeds.stale_while_revalidate: must be at most 86400, got 86401",
        ),
        ("sidebar.items", 0, "sidebar.items: must be at least 1, got 0"),
        ("sidebar.refresh_interval", 59, "sidebar.refresh_interval: must be at least 60, got 59"),
        (
            "sidebar.sources[0].max_items",
            201,
            "sidebar.sources[0].max_items: must be at most 200, got 201",
        ),
        (
            "sidebar.sources[1].min_interval",
            -5,
            "sidebar.sources[1].min_interval: must be at least 0, got -5",
        ),
        ("fetcher.timeout", 0.5, "fetcher.timeout: must be at least 1, got 0.5"),
        ("fetcher.timeout", math.inf, "fetcher.timeout: must be at most 300, got inf"),
        (
            "fetcher.max_body_bytes",
            9_999,
            "fetcher.max_body_bytes: must be at least 10000, got 9999",
        ),
        ("fetcher.max_redirects", 11, "fetcher.max_redirects: must be at most 10, got 11"),
        ("fetcher.per_host", 10**30, f"fetcher.per_host: must be at most 20, got {10**30}"),
    ],
)
def test_out_of_range(key, value, expected):
    assert only_problem(with_key(full(), key, value)) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("server.port", 0),
        ("server.port", 65535),
        ("feeds.items", 1),
        ("feeds.items", 500),
        ("feeds.max_age", 0),
        ("sidebar.refresh_interval", 60),
        ("fetcher.timeout", 1),
        ("fetcher.timeout", 300.0),
        ("fetcher.max_redirects", 0),
    ],
)
def test_range_bounds_are_inclusive(key, value):
    config = parse(with_key(full(), key, value))
    section, name = key.split(".")
    assert getattr(getattr(config, section), name) == value


@pytest.mark.parametrize("key", ["fetcher.timeout", "fetcher.connect_timeout"])
def test_nan_is_out_of_range(key):
    problem = only_problem(with_key(full(), key, math.nan))
    assert problem.startswith(f"{key}: ")
    assert "nan" in problem


# -- URLs, slugs, tags and paths --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "example.org",
        "www.example.org/news",
        "ftp://example.org",
        "file:///var/www",
        "javascript:alert(1)",
        "https://",
        "http:///path",
        "//example.org",
        "",
    ],
)
def test_base_url_must_be_absolute_http(url):
    problem = only_problem(with_key(minimal(), "site.base_url", url))
    assert problem == f"site.base_url: must be an absolute http(s) URL, got {url!r}"


@pytest.mark.parametrize(
    "url", ["https://example.org/?page=1", "https://example.org/news?x", "https://example.org/#top"]
)
def test_base_url_must_not_have_query_or_fragment(url):
    problem = only_problem(with_key(minimal(), "site.base_url", url))
    assert problem == f"site.base_url: must not have a query or fragment, got {url!r}"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org",
        "https://example.org/",
        "http://127.0.0.1:8080",
        "https://example.org/paper",
        "HTTPS://EXAMPLE.ORG",
        "http://[::1]:8080",
    ],
)
def test_good_base_urls(url):
    assert parse(with_key(minimal(), "site.base_url", url)).site.base_url == url


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("site.icon", "ftp://example.org/icon.png"),
        ("site.logo", "/static/logo.png"),
        ("sidebar.sources[0].url", "feeds.example.org/rss"),
        ("sidebar.sources[1].url", "feed://example.org/rss"),
    ],
)
def test_other_urls_must_be_absolute_http(key, url):
    problem = only_problem(with_key(full(), key, url))
    assert problem == f"{key}: must be an absolute http(s) URL, got {url!r}"


def test_icon_and_logo_may_be_empty():
    config = parse(with_key(with_key(minimal(), "site.icon", ""), "site.logo", ""))
    assert (config.site.icon, config.site.logo) == ("", "")


@pytest.mark.parametrize("key", ["site.base_url", "site.icon", "sidebar.sources[0].url"])
def test_unparseable_url_is_a_problem_not_a_traceback(key):
    problem = only_problem(with_key(full(), key, "http://[::1/feed"))
    assert problem.startswith(f"{key}: ")
    assert "'http://[::1/feed'" in problem


@pytest.mark.parametrize("key", ["site.base_url", "site.icon", "sidebar.sources[0].url"])
@pytest.mark.parametrize(
    "url",
    [
        "https://example.org\n",
        "https://exa\tmple.org",
        "https://exa mple.org",
        " https://example.org",
        "https://ex\x00ample.org",
        "https://example.org:99999",
        "https://example.org:port",
    ],
)
def test_urls_with_spaces_controls_or_bad_ports_are_rejected(key, url):
    problem = only_problem(with_key(full(), key, url))
    assert problem.startswith(f"{key}: ")


@pytest.mark.parametrize(
    "slug",
    ["News", "news ", " news", "-news", "news-", "a--b", "", "news/world", "né", "news_2", "a.b"],
)
def test_bad_section_slug(slug):
    problem = only_problem(with_key(full(), "sections[1].slug", slug))
    assert problem == (
        "sections[1].slug: must be a slug of lowercase letters, digits and single hyphens, "
        f"got {slug!r}"
    )


@pytest.mark.parametrize("slug", ["comment", "a", "2026", "middle-east", "covid-19"])
def test_good_section_slug(slug):
    assert parse(with_key(full(), "sections[1].slug", slug)).sections[1].slug == slug


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sections[0].slug", "news\n"),
        ("site.language", "en\n"),
        ("site.tag_authority", "example.org,2026\n"),
    ],
)
def test_trailing_newline_is_not_accepted(key, value):
    problem = only_problem(with_key(full(), key, value))
    assert problem.startswith(f"{key}: must be")


@pytest.mark.parametrize(
    "tag", ["english", "e", "en_GB", "", "en-", "12", "en GB", "en-toolongsubtag"]
)
def test_bad_language_tag(tag):
    problem = only_problem(with_key(minimal(), "site.language", tag))
    assert problem == (
        f"site.language: must be a language tag such as 'en' or 'en-GB', got {tag!r}"
    )


@pytest.mark.parametrize("tag", ["en", "en-GB", "ar", "fr-CA", "zh-Hant-TW", "ast"])
def test_good_language_tag(tag):
    assert parse(with_key(minimal(), "site.language", tag)).site.language == tag


@pytest.mark.parametrize(
    "authority",
    [
        "example.org",
        "example.org,26",
        "example,2026",
        "https://example.org,2026",
        "example.org, 2026",
        "example.org,2026-3-4",
        "example.org,2026/03/04",
        "Example.org,2026",
        "",
    ],
)
def test_bad_tag_authority(authority):
    problem = only_problem(with_key(minimal(), "site.tag_authority", authority))
    assert problem.startswith("site.tag_authority: must be a domain (or email) you owned on a date")
    assert "RFC 4151" in problem
    assert problem.endswith(f"got {authority!r}")


@pytest.mark.parametrize(
    "authority",
    [
        "example.org,2026",
        "news.example.co.uk,2026-03",
        "example.org,2026-03-04",
        "me@example.org,2001",
    ],
)
def test_good_tag_authority(authority):
    assert (
        parse(with_key(minimal(), "site.tag_authority", authority)).site.tag_authority == authority
    )


@pytest.mark.parametrize("path", ["articles/{slug}", "/articles/", "/articles/{title}", "", "{id}"])
def test_bad_article_path(path):
    problem = only_problem(with_key(minimal(), "site.article_path", path))
    assert problem == (
        f"site.article_path: must start with '/' and contain {{slug}} or {{id}}, got {path!r}"
    )


@pytest.mark.parametrize("path", ["/{id}", "/a/{slug}.html", "/{slug}/{id}"])
def test_good_article_path(path):
    assert parse(with_key(minimal(), "site.article_path", path)).site.article_path == path


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("site.title", ""),
        ("site.title", "   "),
        ("server.host", " "),
        ("sections[0].title", ""),
        ("sidebar.sources[1].name", "\t"),
    ],
)
def test_blank_text(key, value):
    assert only_problem(with_key(full(), key, value)) == f"{key}: must not be empty"


@pytest.mark.parametrize("value", ["everything", "Full", "", 1, True, ["full"]])
def test_choice_must_be_one_of_the_literals(value):
    problem = only_problem(with_key(full(), "feeds.content", value))
    assert problem == f"feeds.content: must be one of 'full', 'summary', got {value!r}"


def test_choice_summary():
    assert parse(with_key(full(), "feeds.content", "summary")).feeds.content == "summary"


# -- cross checks ----------------------------------------------------------------------------


def test_duplicate_section_slug_names_both_indexes():
    table = full()
    table["sections"].append({"slug": "news", "title": "More news"})
    assert problems_of(table) == ["sections[2].slug: duplicate slug 'news' (also sections[0])"]


def test_every_duplicate_section_is_reported():
    table = with_key(full(), "sections", [{"slug": "news", "title": f"N{i}"} for i in range(3)])
    assert problems_of(table) == [
        "sections[1].slug: duplicate slug 'news' (also sections[0])",
        "sections[2].slug: duplicate slug 'news' (also sections[0])",
    ]


def test_duplicate_source_name():
    table = with_key(full(), "sidebar.sources[1].name", "One")
    assert problems_of(table) == [
        "sidebar.sources[1].name: duplicate name 'One' (also sidebar.sources[0])"
    ]


def test_duplicate_source_url():
    table = with_key(full(), "sidebar.sources[1].url", "https://one.example/feed")
    assert problems_of(table) == [
        "sidebar.sources[1].url: duplicate url 'https://one.example/feed' (also sidebar.sources[0])"
    ]


def test_same_slug_in_a_section_and_a_source_name_is_fine():
    table = with_key(full(), "sidebar.sources[0].name", "news")
    assert parse(table).sidebar.sources[0].name == "news"


# -- all at once, never a traceback ---------------------------------------------------------------


def test_five_problems_come_back_together():
    table = full()
    table["site"]["base_url"] = "example.org"
    table["server"]["port"] = 70000
    table["feeds"]["content"] = "everything"
    table["sections"][1]["slug"] = "Comment"
    table["fetcher"]["timeot"] = 3
    problems = problems_of(table)
    assert len(problems) == 5, problems
    keys = sorted(p.split(": ")[0] for p in problems)
    assert keys == sorted(
        ["site.base_url", "server.port", "feeds.content", "sections[1].slug", "fetcher.timeot"]
    )


def test_problems_in_every_table_come_back_together():
    table = {
        "site": {"title": "", "base_url": "ftp://x", "tag_authority": "x", "language": 5},
        "store": {"path": 1},
        "server": {"port": True, "workers": 100},
        "feeds": {"items": 0, "content": "all"},
        "sections": [{"slug": "Bad Slug"}, {"title": 3}],
        "sidebar": {"items": "ten", "sources": [{"name": "x", "url": "nope", "max_items": -1}]},
        "fetcher": {"timeout": "slow", "extra": True},
    }
    problems = problems_of(table)
    keys = [p.split(": ")[0] for p in problems]
    assert sorted(keys) == sorted(
        [
            "site.title",
            "site.base_url",
            "site.tag_authority",
            "site.language",
            "store.path",
            "server.port",
            "server.workers",
            "feeds.items",
            "feeds.content",
            "sections[0].slug",
            "sections[0].title",
            "sections[1].slug",
            "sections[1].title",
            "sidebar.items",
            "sidebar.sources[0].url",
            "sidebar.sources[0].max_items",
            "fetcher.timeout",
            "fetcher.extra",
        ]
    )


def test_duplicates_are_reported_with_other_problems():
    table = full()
    table["sections"].append({"slug": "news", "title": "Again"})
    table["server"]["port"] = 70000
    assert sorted(problems_of(table)) == sorted(
        [
            "sections[2].slug: duplicate slug 'news' (also sections[0])",
            "server.port: must be at most 65535, got 70000",
        ]
    )


ODD_VALUES: list[Any] = [
    "",
    " ",
    "text",
    "http://example.org/x",
    "\u0000",
    0,
    -1,
    10**20,
    1.5,
    math.nan,
    math.inf,
    True,
    False,
    [],
    [1, "a"],
    [{}],
    {},
    {"x": 1},
    dt.date(2026, 1, 1),
    dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
    dt.time(12, 0),
]


def leaf_paths() -> list[str]:
    """Every leaf key, with array members addressed by index (as in full())."""
    paths = []
    for key, _ in documented_keys():
        if key.startswith("sections."):
            paths.append(key.replace("sections.", "sections[1]."))
        elif key.startswith("sidebar.sources."):
            paths.append(key.replace("sidebar.sources.", "sidebar.sources[0]."))
        elif key.startswith("digests."):
            paths.append(key.replace("digests.", "digests[1]."))
        else:
            paths.append(key)
    return [*paths, "site", "sections", "sections[0]", "sidebar.sources", "fetcher", "digests"]


@pytest.mark.parametrize("key", leaf_paths())
def test_any_value_anywhere_gives_a_config_or_a_config_error(key):
    for value in ODD_VALUES:
        problems: list[str] = []
        try:
            config = parse(with_key(full(), key, value))
        except ConfigError as exc:
            problems = exc.problems
        else:
            assert isinstance(config, Config)
            continue
        assert problems
        assert all(isinstance(p, str) and p for p in problems)
        assert any(p.startswith(key) for p in problems), (value, problems)


# -- where the store is --------------------------------------------------------------------


def test_store_path_is_relative_to_the_config_folder(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(to_toml(with_key(minimal(), "store.path", "db/articles.db")), "utf-8")
    config = load_config(path)
    assert config.store.path == Path("db/articles.db")
    assert config.store_path == folder.resolve() / "db" / "articles.db"


def test_default_store_path_is_relative_to_the_config_folder(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(to_toml(minimal()), "utf-8")
    assert load_config(path).store_path == tmp_path.resolve() / "data" / "syndicate.db"


def test_absolute_store_path_is_kept(tmp_path):
    absolute = tmp_path / "elsewhere" / "store.db"
    path = tmp_path / "config.toml"
    path.write_text(to_toml(with_key(minimal(), "store.path", str(absolute))), "utf-8")
    assert load_config(path).store_path == absolute


def test_store_path_with_a_relative_config_path(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "config.toml").write_text(
        to_toml(with_key(minimal(), "store.path", "x.db")), "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    config = load_config("sub/config.toml")
    assert config.store_path == tmp_path.resolve() / "sub" / "x.db"


def test_parse_config_resolves_against_the_given_source(tmp_path):
    config = parse_config(
        to_toml(with_key(minimal(), "store.path", "x.db")), tmp_path / "conf" / "config.toml"
    )
    assert config.source == tmp_path / "conf" / "config.toml"
    assert config.store_path == tmp_path.resolve() / "conf" / "x.db"


def test_store_path_does_not_move_when_the_folder_changes(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "config.toml").write_text(to_toml(minimal()), "utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config("sub/config.toml")
    before = config.store_path
    monkeypatch.chdir(tmp_path / "sub")
    assert config.store_path == before


# -- which file is read ---------------------------------------------------------------


@pytest.fixture
def three_configs(tmp_path, monkeypatch):
    """./config.toml, one named by $SYNDICATE_CONFIG, and an explicit one."""
    paths = {}
    for name in ("cwd", "env", "explicit"):
        folder = tmp_path / name
        folder.mkdir()
        paths[name] = folder / "config.toml"
        paths[name].write_text(to_toml(with_key(minimal(), "site.title", name)), "utf-8")
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    return paths


def test_explicit_path_beats_the_environment(three_configs, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(three_configs["env"]))
    config = load_config(three_configs["explicit"])
    assert config.site.title == "explicit"
    assert config.source.resolve() == three_configs["explicit"].resolve()
    assert load_config(str(three_configs["explicit"])).site.title == "explicit"


def test_environment_beats_the_current_folder(three_configs, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(three_configs["env"]))
    config = load_config()
    assert config.site.title == "env"
    assert config.source.resolve() == three_configs["env"].resolve()
    assert config.store_path == three_configs["env"].parent.resolve() / "data" / "syndicate.db"


def test_current_folder_is_the_fallback(three_configs, monkeypatch):
    assert CONFIG_ENV not in os.environ
    config = load_config()
    assert config.site.title == "cwd"
    assert config.store_path == three_configs["cwd"].parent.resolve() / "data" / "syndicate.db"


def test_empty_environment_variable_is_ignored(three_configs, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "")
    assert load_config().site.title == "cwd"


def test_environment_naming_a_missing_file_does_not_fall_back(three_configs, monkeypatch):
    missing = three_configs["env"].parent / "missing.toml"
    monkeypatch.setenv(CONFIG_ENV, str(missing))
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.path == missing
    assert caught.value.problems == ["file not found"]


def test_no_config_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.path == Path("config.toml")
    assert caught.value.problems == ["file not found"]


# -- documentation -----------------------------------------------------------------------


def all_fields(cls: type, prefix: str = "") -> dict[str, dataclasses.Field[Any]]:
    """Every leaf field of the config dataclasses, walked independently of the package."""
    out: dict[str, dataclasses.Field[Any]] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        tp = hints[f.name]
        if typing.get_origin(tp) is tuple:
            tp = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(tp):
            out.update(all_fields(tp, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = f
    return out


def is_optional(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def test_documented_keys_cover_every_field_with_a_doc():
    documented = documented_keys()
    keys = [k for k, _ in documented]
    assert len(keys) == len(set(keys)), "a key is documented twice"
    assert set(keys) == set(all_fields(Config))
    for key, doc in documented:
        assert doc.strip(), f"{key} has no doc"
        assert "\n" not in doc, f"{key}: docs are one line"


def test_every_table_has_a_doc():
    for f in dataclasses.fields(Config):
        if not f.metadata.get("internal"):
            assert f.metadata.get("doc", "").strip(), f.name
    for cls in (SidebarConfig,):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc", "").strip(), f.name


def shipped_keys(table: dict[str, Any], prefix: str = "") -> set[str]:
    """Keys used in a parsed TOML file; arrays of tables flatten to "sections.slug"."""
    keys: set[str] = set()
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            keys |= shipped_keys(value, f"{key}.")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                keys |= shipped_keys(item, f"{key}.")
        else:
            keys.add(key)
    return keys


def test_shipped_config_uses_only_documented_keys_and_every_required_one():
    used = shipped_keys(tomllib.loads(SHIPPED.read_text(encoding="utf-8")))
    fields_by_key = all_fields(Config)
    documented = {k for k, _ in documented_keys()}
    assert used - documented == set(), "config.toml uses undocumented keys"
    for key in documented - used:
        assert is_optional(fields_by_key[key]), f"{key} is required but not in config.toml"
    for key, f in fields_by_key.items():
        if not is_optional(f):
            assert key in used


def test_every_top_level_table_of_the_shipped_config_is_documented():
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    documented_tables = {k.split(".")[0] for k, _ in documented_keys()}
    assert set(shipped) <= documented_tables
