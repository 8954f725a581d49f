"""The shapes shared by the store, the importer, the fetcher and the feed builders.

Plain frozen dataclasses with no behaviour tied to SQLite or HTTP, so the
feed builders can be tested with hand-made articles and no store at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

Status = Literal["published", "draft"]
#: "sidebar" names the Latest News entries, which the cache also tracks; "digest"
#: a configured digest, whose feed holds its frozen editions (syndicate.cutoffs).
ScopeKind = Literal["site", "section", "author", "issue", "tag", "digest", "sidebar"]
STATUSES: tuple[Status, ...] = ("published", "draft")

#: How timestamps are spelled in the store: fixed width, so text order is time order.
STORE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_store_time(moment: datetime) -> str:
    """Spell an aware datetime the one way the store accepts (UTC, seconds)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; attach a time zone first")
    u = moment.astimezone(UTC)
    # By hand: strftime("%Y") does not zero-pad years before 1000 on glibc.
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def from_store_time(text: str) -> datetime:
    # "YYYY-MM-DDTHH:MM:SSZ": fromisoformat reads it (3.11+) ~15x faster than strptime.
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Author:
    slug: str
    name: str
    bio: str = ""
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str


@dataclass(frozen=True)
class Image:
    url: str
    caption: str = ""
    alt: str = ""


@dataclass(frozen=True)
class PrintIssue:
    number: int
    date: date | None = None
    pdf_url: str | None = None
    #: The PDF's size in bytes, when the CMS said (RSS enclosures need it).
    pdf_length: int | None = None


@dataclass(frozen=True)
class ArticleIn:
    """An article as a writer hands it over: validated, not yet stored.

    ``updated`` is None when the writer did not say; the store then keeps the
    stored value, or uses ``published`` for a new article.
    """

    slug: str
    title: str
    standfirst: str
    body: str
    section: str | None
    issue: PrintIssue | None
    published: datetime
    updated: datetime | None
    authors: tuple[Author, ...]
    tags: tuple[Tag, ...]
    image: Image | None
    status: Status


@dataclass(frozen=True)
class Article:
    """A stored article with its permanent numeric id."""

    id: int
    slug: str
    title: str
    standfirst: str
    body: str
    section: str | None
    issue: PrintIssue | None
    published: datetime
    updated: datetime
    authors: tuple[Author, ...]
    tags: tuple[Tag, ...]
    image: Image | None
    status: Status


@dataclass(frozen=True)
class Scope:
    """Which articles a feed holds: the whole site, or one section/author/issue/tag."""

    kind: ScopeKind
    key: str = ""


SITE = Scope("site")
SIDEBAR = Scope("sidebar")


# -- what the fetcher hands the store -------------------------------------------


@dataclass(frozen=True)
class Validators:
    """What the server gave us to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class CleanEntry:
    """An entry safe to store and show: plain-text title, absolute http(s) link or "" for none,
    UTC date."""

    #: Dedup key within a source: "guid:…", "link:…" or "hash:…".
    key: str
    title: str
    link: str
    #: The date the document gave, in the future or not; None when it gave no
    #: plausible one (the store keeps it unknown and orders it by first-seen).
    published: datetime | None
    #: The entry's own language (a BCP 47 tag), only when it declares one that
    #: differs from its source's; None: as its source.
    language: str | None = None
