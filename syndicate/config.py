"""config.toml into frozen, typed dataclasses.

Editors write this file by hand, so a mistake must come back as a list of
plain sentences naming the key ("sections[2].slug: duplicate slug 'news'"),
all of them at once, never as a traceback. The loader walks the dataclasses
below; each field's metadata carries its own rule (range, URL, choice), so a
new setting is one line here and is validated and documented like the rest.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

from syndicate import configrules as rules
from syndicate.configrules import rule
from syndicate.cutoffs import clock_time_problem, weekday_problem, zone_problem
from syndicate.errors import SyndicateError

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "SYNDICATE_CONFIG"

#: Where the built-in WebSub hub answers.
HUB_PATH = "/websub"


class ConfigError(SyndicateError):
    """The config file could not be used; ``problems`` lists every reason."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


# -- the schema --------------------------------------------------------------


@dataclass(frozen=True)
class SiteConfig:
    title: str = rule(check=rules.not_blank, doc="Name of the publication")
    base_url: str = rule(check=rules.base_url, doc="Public root URL, e.g. https://example.org")
    tag_authority: str = rule(
        check=rules.tag_authority,
        doc="Fixed 'domain,date' behind every entry ID (tag: URI); never change it",
    )
    language: str = rule("en", check=rules.language, doc="Language tag of the feeds")
    description: str = rule("", doc="One-line description, used as feed subtitle")
    copyright: str = rule("", doc="Copyright line of every feed")
    icon: str = rule("", check=rules.optional_url, doc="Small square image URL (favicon)")
    logo: str = rule("", check=rules.optional_url, doc="Larger logo image URL")
    article_path: str = rule(
        "/articles/{slug}", check=rules.path_template, doc="Permalink path of an article"
    )
    embed_hosts: tuple[str, ...] = rule(
        (),
        check=rules.hosts,
        doc="Exact hosts whose https pages articles may embed (iframes); none by default",
    )
    pages: bool = rule(
        False,
        doc="Serve the pages feeds link to (/, /sections/{slug}, ...); off when the website does",
    )

    @property
    def root(self) -> str:
        """The base URL without a trailing slash, ready for joining paths."""
        return self.base_url.rstrip("/")


@dataclass(frozen=True)
class StoreConfig:
    path: Path = rule(Path("data/syndicate.db"), doc="SQLite file, relative to config.toml")


@dataclass(frozen=True)
class ServerConfig:
    host: str = rule("127.0.0.1", check=rules.not_blank, doc="Address to listen on")
    port: int = rule(8080, check=rules.within(0, 65535), doc="TCP port (0 picks a free one)")
    workers: int = rule(0, check=rules.within(0, 64), doc="Worker processes; 0 means one per core")
    demo_feeds: str = rule(
        "", doc="Folder of sample outside feeds served at /demo-feeds/ (for the offline demo)"
    )
    access_log: bool = rule(
        False, doc="Log one line per request (method, path, status, time, request ID)"
    )
    demo_media: bool = rule(
        False, doc="Serve the demo's made-up pictures, icon, logo and PDFs (for the offline demo)"
    )


@dataclass(frozen=True)
class FeedsConfig:
    items: int = rule(50, check=rules.within(1, 500), doc="Items per feed page")
    content: Literal["full", "summary"] = rule("full", doc="Full article bodies or summaries")
    max_age: int = rule(300, check=rules.within(0, 86400), doc="Cache-Control max-age in seconds")
    stale_while_revalidate: int = rule(
        60, check=rules.within(0, 86400), doc="Cache-Control stale-while-revalidate in seconds"
    )


@dataclass(frozen=True)
class SectionConfig:
    slug: str = rule(check=rules.slug, doc="URL name of the section")
    title: str = rule(check=rules.not_blank, doc="Display name")
    description: str = rule("", doc="Used as the section feed's subtitle")


@dataclass(frozen=True)
class DigestConfig:
    """A daily or weekly digest of the articles (the morning email); see syndicate.cutoffs."""

    slug: str = rule(
        check=rules.slug, doc="URL name of the digest; never change it once people subscribe"
    )
    title: str = rule(check=rules.not_blank, doc="Name of the email, e.g. 'Breakfast in Red'")
    schedule: Literal["daily", "weekly"] = rule("daily", doc="'daily', or 'weekly' on `day`")
    time: str = rule("07:00", check=clock_time_problem, doc="Local cut-off time, HH:MM (24-hour)")
    day: str = rule("", check=weekday_problem, doc="Weekly only: 'monday' ... 'sunday'")
    time_zone: str = rule(
        "UTC", check=zone_problem, doc="IANA time zone of the cut-off, e.g. 'Europe/London'"
    )
    sections: tuple[str, ...] = rule(
        (), check=rules.slugs, doc="Sections it takes, in the order shown; empty: every article"
    )
    max_articles: int = rule(
        30, check=rules.within(1, 200), doc="Most articles in one edition (newest)"
    )
    lead: str = rule("", doc="Optional text at the top of every edition")


@dataclass(frozen=True)
class SourceConfig:
    name: str = rule(check=rules.not_blank, doc="Name shown in the sidebar")
    url: str = rule(check=rules.http_url, doc="URL of the outside RSS, Atom or JSON feed")
    max_items: int = rule(
        0, check=rules.within(0, 200), doc="Most entries shown; 0 uses the default"
    )
    min_interval: int = rule(0, check=rules.within(0, 86400), doc="Least seconds between fetches")
    enabled: bool = rule(True, doc="Set false to stop fetching without losing the source")


@dataclass(frozen=True)
class SidebarConfig:
    items: int = rule(10, check=rules.within(1, 100), doc="Entries shown in Latest News")
    max_per_source: int = rule(
        3, check=rules.within(1, 100), doc="Most entries from any one source"
    )
    refresh_interval: int = rule(
        900, check=rules.within(60, 86400), doc="Seconds between fetch runs"
    )
    sources: tuple[SourceConfig, ...] = rule(default_factory=tuple, doc="Outside feeds")


@dataclass(frozen=True)
class FetcherConfig:
    allow_private_addresses: bool = rule(
        False, doc="Allow sources on loopback or private networks (tests, demo)"
    )
    timeout: float = rule(30.0, check=rules.within(1, 300), doc="Total seconds allowed per fetch")
    connect_timeout: float = rule(
        10.0, check=rules.within(1, 120), doc="Seconds allowed to connect"
    )
    max_body_bytes: int = rule(
        5_000_000,
        check=rules.within(10_000, 100_000_000),
        doc="Largest accepted body (decompressed)",
    )
    concurrency: int = rule(10, check=rules.within(1, 200), doc="Fetches in flight in total")
    per_host: int = rule(2, check=rules.within(1, 20), doc="Fetches in flight per host")
    max_redirects: int = rule(5, check=rules.within(0, 10), doc="Redirect hops before giving up")


#: The response headers that can carry surrogate keys, as each cache spells them.
KEY_HEADERS = ("xkey", "Surrogate-Key", "Cache-Tag")


def _http_urls(value: Any) -> str | None:
    return next((f"[{i}] {p}" for i, v in enumerate(value) if (p := rules.http_url(v))), None)


def _key_headers(value: Any) -> str | None:
    bad = [name for name in value if name not in KEY_HEADERS]
    if bad or len(set(value)) != len(value):
        return f"must list distinct names from {', '.join(KEY_HEADERS)}, got {list(value)!r}"
    return None


@dataclass(frozen=True)
class CacheConfig:
    """The cache or CDN in front (README, "Behind a cache"): keys out, purges in."""

    key_headers: tuple[str, ...] = rule(
        (),
        check=_key_headers,
        doc="Headers carrying each document's surrogate keys: xkey (Varnish), "
        "Surrogate-Key (Fastly), Cache-Tag (Cloudflare); none set: xkey if purge_urls is",
    )
    purge_urls: tuple[str, ...] = rule(
        (),
        check=_http_urls,
        doc="Varnish addresses sent `PURGE` with an `xkey-purge` header on every change",
    )
    purge_command: tuple[str, ...] = rule(
        (), doc="Command (argv) run with the changed keys appended, e.g. a CDN's purge call"
    )
    purge_timeout: float = rule(
        5.0,
        check=rules.within(0.5, 60),
        doc="Seconds one purge attempt (request or command) may take",
    )

    def problems(self) -> list[str]:
        """Keys sent to Varnish only in headers it does not read would make purges no-ops."""
        if self.purge_urls and self.key_headers and "xkey" not in self.key_headers:
            return [
                "cache.key_headers: must include 'xkey' when cache.purge_urls is set "
                "(Varnish files objects by it; without it every purge finds nothing)"
            ]
        return []

    @property
    def headers(self) -> tuple[str, ...]:
        """The key headers sent: as configured, else xkey when a Varnish is to be purged.

        Without a cache in front keys are bytes no one reads, and serialising a
        site feed's 1.5 KB of them costs aiohttp about 5 us per 200
        (bench/bench_keys.py), a tenth of the whole answer.
        """
        return self.key_headers or (("xkey",) if self.purge_urls else ())


def _hub(value: Any) -> str | None:
    if value in ("builtin", "off"):
        return None
    problem = rules.http_url(value)
    return f"must be 'builtin', 'off' or an outside hub's URL: {problem}" if problem else None


@dataclass(frozen=True)
class WebSubConfig:
    """WebSub (W3C Recommendation, 2018): the hub every feed names, and the built-in one."""

    hub: str = rule(
        "builtin",
        check=_hub,
        doc="'builtin' (the hub at /websub), an outside hub's URL (announced to), or 'off'",
    )
    lease_min: int = rule(
        3600, check=rules.within(60, 31_536_000), doc="Shortest lease granted, in seconds"
    )
    lease_max: int = rule(
        2_592_000, check=rules.within(60, 31_536_000), doc="Longest lease granted, in seconds"
    )
    lease_default: int = rule(
        864_000, check=rules.within(60, 31_536_000), doc="Lease when a subscriber asks for none"
    )
    retry_for: int = rule(
        3600,
        check=rules.within(1, 604_800),
        doc="Seconds a failing delivery or outside-hub announcement is retried, then dropped",
    )
    retry_base: float = rule(
        2.0, check=rules.within(0.05, 3600), doc="Seconds before the first retry; doubled each time"
    )
    timeout: float = rule(
        10.0, check=rules.within(0.5, 120), doc="Seconds allowed per callback or hub request"
    )
    concurrency: int = rule(
        500, check=rules.within(1, 10_000), doc="Callback requests in flight at once (built-in hub)"
    )
    publish_with: Literal["both", "hub.topic", "hub.url"] = rule(
        "both", doc="The outside hub's publish parameter: hub.topic, hub.url, or both"
    )


@dataclass(frozen=True)
class Config:
    site: SiteConfig = rule(doc="The publication")
    store: StoreConfig = rule(default_factory=StoreConfig, doc="The article store")
    server: ServerConfig = rule(default_factory=ServerConfig, doc="The HTTP server")
    feeds: FeedsConfig = rule(default_factory=FeedsConfig, doc="Feed output")
    sections: tuple[SectionConfig, ...] = rule(default_factory=tuple, doc="Sections")
    sidebar: SidebarConfig = rule(default_factory=SidebarConfig, doc="Latest News sidebar")
    fetcher: FetcherConfig = rule(default_factory=FetcherConfig, doc="Outside-feed fetcher")
    cache: CacheConfig = rule(default_factory=CacheConfig, doc="The cache or CDN in front")
    digests: tuple[DigestConfig, ...] = rule(default_factory=tuple, doc="Daily or weekly digests")
    websub: WebSubConfig = rule(default_factory=WebSubConfig, doc="WebSub push")
    #: Where the file was read from; relative paths inside it are resolved against it.
    source: Path = field(default=Path(DEFAULT_CONFIG), metadata={"internal": True})

    @property
    def store_path(self) -> Path:
        """The store file, resolved against the config file's folder."""
        if self.store.path.is_absolute():
            return self.store.path
        return self.source.resolve().parent / self.store.path

    @property
    def demo_feeds_path(self) -> Path | None:
        if not self.server.demo_feeds:
            return None
        return self.source.resolve().parent / self.server.demo_feeds

    def section(self, slug: str) -> SectionConfig | None:
        return next((s for s in self.sections if s.slug == slug), None)

    def digest(self, slug: str) -> DigestConfig | None:
        return next((d for d in self.digests if d.slug == slug), None)

    @property
    def hub_url(self) -> str | None:
        """The hub every feed names (``rel="hub"``), or None with WebSub off."""
        hub = self.websub.hub
        if hub == "off":
            return None
        return self.site.root + HUB_PATH if hub == "builtin" else hub


# -- the loader --------------------------------------------------------------

T = TypeVar("T")

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _describe(value: Any) -> str:
    kinds = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        dict: "a table",
        list: "an array",
    }
    return kinds.get(type(value), type(value).__name__)


def _convert(tp: Any, value: Any, key: str, problems: list[str]) -> Any:
    """Convert one TOML value to the annotated type, or record why not."""
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            problems.append(
                f"{key}: must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
            )
            return MISSING
        return value
    if origin is tuple:
        (item_type, _) = get_args(tp)
        if not isinstance(value, list):
            what = (
                "an array of tables" if hasattr(item_type, "__dataclass_fields__") else "an array"
            )
            problems.append(f"{key}: must be {what}, got {_describe(value)}")
            return MISSING
        items = [_convert(item_type, v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
        if any(item is MISSING for item in items):
            return MISSING  # its problems are recorded; cross-checks need whole items
        return tuple(items)
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        if not isinstance(value, dict):
            problems.append(f"{key}: must be a table, got {_describe(value)}")
            return MISSING
        return _build(tp, value, key, problems)
    if tp is Path:
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: must be a non-empty path string, got {_describe(value)}")
            return MISSING
        return Path(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{key}: must be a number, got {_describe(value)}")
            return MISSING
        return float(value)
    if (tp is int and isinstance(value, bool)) or not isinstance(value, tp):
        problems.append(f"{key}: must be {_TYPE_NAMES.get(tp, tp)}, got {_describe(value)}")
        return MISSING
    return value


def _build(cls: type[T], table: Mapping[str, Any], prefix: str, problems: list[str]) -> T:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls) if not f.metadata.get("internal")}  # type: ignore[arg-type]
    dot = f"{prefix}." if prefix else ""
    for name in table:
        if name not in known:
            problems.append(f"{dot}{name}: unknown key (known keys: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    missing = False
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in known:
            continue
        key = f"{dot}{f.name}"
        if f.name not in table:
            if f.default is MISSING and f.default_factory is MISSING:
                tp = hints[f.name]
                what = "table" if hasattr(tp, "__dataclass_fields__") else "key"
                problems.append(f"{key}: missing (required {what})")
                missing = True
            continue
        value = _convert(hints[f.name], table[f.name], key, problems)
        if value is MISSING:
            missing = True
            continue
        check = f.metadata.get("check")
        if check is not None:
            problem = check(value)
            if problem:
                problems.append(f"{key}: {problem}")
                missing = True
                continue
        values[f.name] = value
    if missing:
        return MISSING  # type: ignore[return-value]
    return cls(**values)


_LEASES = ("lease_min", "lease_max", "lease_default")


def _cross_checks(table: Mapping[str, Any], problems: list[str]) -> None:
    """Duplicates across items, checked on the raw tables so they are reported
    alongside every other problem, not only once the rest is fixed."""

    def items(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    websub = table.get("websub")
    if isinstance(websub, dict):
        leases = [websub.get(k, getattr(WebSubConfig, k)) for k in _LEASES]
        if all(isinstance(v, int) for v in leases) and not leases[0] <= leases[2] <= leases[1]:
            problems.append(
                f"websub: lease_min ({leases[0]}) <= lease_default ({leases[2]}) "
                f"<= lease_max ({leases[1]}) must hold"
            )
    sidebar = table.get("sidebar")
    lists = (
        ("sections", items(table.get("sections")), ("slug",)),
        (
            "sidebar.sources",
            items(sidebar.get("sources")) if isinstance(sidebar, dict) else [],
            ("name", "url"),
        ),
        ("digests", items(table.get("digests")), ("slug",)),
    )
    for where, entries, attrs in lists:
        for attr in attrs:
            seen: dict[str, int] = {}
            for i, entry in enumerate(entries):
                value = entry.get(attr) if isinstance(entry, dict) else None
                if not isinstance(value, str):
                    continue
                if value in seen:
                    problems.append(
                        f"{where}[{i}].{attr}: duplicate {attr} {value!r} "
                        f"(also {where}[{seen[value]}])"
                    )
                seen.setdefault(value, i)
    _digest_checks(items(table.get("sections")), items(table.get("digests")), problems)


def _digest_checks(sections: list[Any], digests: list[Any], problems: list[str]) -> None:
    """A weekly digest names its day (a daily one none), and takes configured sections."""
    known = {s["slug"] for s in sections if isinstance(s, dict) and isinstance(s.get("slug"), str)}
    for i, digest in enumerate(digests):
        if not isinstance(digest, dict):
            continue
        weekly, day = digest.get("schedule") == "weekly", digest.get("day", "")
        if weekly and not day:
            problems.append(f"digests[{i}].day: missing (required for a weekly schedule)")
        elif day and not weekly and digest.get("schedule", "daily") == "daily":
            problems.append(f"digests[{i}].day: only for schedule = 'weekly' (this one is daily)")
        wanted = digest.get("sections", [])
        for slug in wanted if isinstance(wanted, list) else []:
            if isinstance(slug, str) and not rules.slug(slug) and slug not in known:
                problems.append(f"digests[{i}].sections: no section {slug!r} in [[sections]]")


def parse_config(text: str, source: Path = Path(DEFAULT_CONFIG)) -> Config:
    """Parse config text; raise :class:`ConfigError` listing every problem."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    problems: list[str] = []
    config = _build(Config, table, "", problems)
    _cross_checks(table, problems)
    if not problems:
        problems += config.cache.problems()
    if problems:
        raise ConfigError(source, problems)
    return replace(config, source=source)


def load_config(path: Path | str | None = None) -> Config:
    """Read the config from ``path``, else $SYNDICATE_CONFIG, else ./config.toml."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        text = chosen.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(chosen, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(chosen, [f"cannot be read: {exc}"]) from None
    config = parse_config(text, chosen)
    # Pin the folder now: a later chdir must not move the store.
    return replace(config, source=chosen.resolve())


__all__ = [
    "CONFIG_ENV",
    "Config",
    "ConfigError",
    "DigestConfig",
    "FeedsConfig",
    "FetcherConfig",
    "SectionConfig",
    "ServerConfig",
    "SidebarConfig",
    "SiteConfig",
    "SourceConfig",
    "StoreConfig",
    "WebSubConfig",
    "load_config",
    "parse_config",
]


# -- warnings (valid, but probably not meant) ---------------------------------------


def _is_public_host(host: str) -> bool:
    """Whether a site at ``host`` is reachable by the public (not this machine or a LAN)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".test", ".internal")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a name in public DNS


def private_fetching_warning(config: Config) -> str | None:
    """A warning when the demo's setting reaches a production config.

    ``allow_private_addresses`` lets sidebar sources (and anything an editor
    or an OPML file adds) reach loopback and the private network: right for
    the offline demo and the tests, a server-side request forgery hole on a
    public site.
    """
    if not config.fetcher.allow_private_addresses:
        return None
    host = urlsplit(config.site.base_url).hostname or ""
    if not _is_public_host(host):
        return None
    return (
        "fetcher.allow_private_addresses is true while site.base_url "
        f"({config.site.base_url}) is public: sidebar sources may then reach this machine "
        "and its private network. Set it to false unless this is a demo."
    )
