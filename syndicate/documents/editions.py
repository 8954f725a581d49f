"""Digest editions: what one holds, written as email, and frozen at its cut-off.

An edition is the period's articles (``(previous cut-off, cut-off]``, see
syndicate.cutoffs) of the digest's sections, newest ``max_articles`` of them,
grouped by section in the configured order. It is written three ways, once:

* the feed item's content, an HTML summary an RSS-to-email service can send
  as it is: tables for layout, inline styles only (email clients drop
  ``<style>`` blocks and stylesheets), every link and image absolute, images
  with ``width`` and ``alt``, no script;
* the email page, ``/digests/{slug}/{date}``: that summary in a whole HTML
  document an editor can paste or a service can fetch;
* its plain-text part, ``/digests/{slug}/{date}.txt``: every headline with
  its link, for the text/plain half of a multipart email.

**Who freezes, and when.** :class:`EditionClerk` runs in the leader worker
only (the one that runs the change door, chosen by the supervisor when it
forks), beside the door, on the same tick. Like a scheduled article, the
moment is known in advance: the clerk keeps the next cut-off of every digest
and compares it with the clock on each tick, so an edition is frozen at its
cut-off with no request, no cron and no restart. Unlike a scheduled article,
an edition must be *written* (its bytes are kept so later edits cannot
rewrite it), which is why one process does it. The write is an ``INSERT OR
IGNORE`` on (digest, date): freezing is idempotent, so a leader that dies
mid-way and its replacement, or any other process calling :func:`freeze_due`
on the same store, cannot write an edition twice or change one. The row's
trigger logs the digest's scope in the change log, and from there it is an
ordinary write: every worker drops the digest's feeds, and the change door
announces the changed documents (so WebSub pushes and CDN purges fire once,
from the leader).

At start, and after a config reload, the clerk also catches up the last
:data:`CATCH_UP` cut-offs not yet considered (a server that was down at
07:00 freezes that edition when it comes back, with the articles as they are
then). A period with no article is recorded as considered and never
published: no empty email.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from markupsafe import Markup

from syndicate.catalog import FORMATS, edition_path, feed_path, permalink
from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config, DigestConfig
from syndicate.cutoffs import Cutoff, cutoffs_until, next_cutoff, previous_cutoff
from syndicate.documents.templating import templates
from syndicate.formats.urls import absolute_url, to_uri
from syndicate.formats.view import (
    Person,
    byline,
    clean_line,
    clean_text,
    entry_title,
    truncate,
)
from syndicate.live import LiveConfig
from syndicate.models import Article, Scope
from syndicate.store import Store
from syndicate.store.digests import Edition, freeze, kept_dates, period_articles

log = logging.getLogger("syndicate.digests")

#: Cut-offs looked back on at start: a week of a daily digest.
CATCH_UP: Final = 7
#: Width of images in the email, in CSS pixels (the usual 600-pixel email column).
IMAGE_WIDTH: Final = 560
PAGE_WIDTH: Final = 600
#: Seconds between the clerk's looks at the clock (the change door's tick).
CLERK_TICK: Final = 0.2
#: The heading of articles outside any configured section.
OTHER: Final = "More"
SUMMARY_LENGTH: Final = 300


@dataclass(frozen=True)
class Item:
    title: str
    url: str
    byline: str
    standfirst: str
    image: str
    alt: str


@dataclass(frozen=True)
class Group:
    title: str
    articles: tuple[Item, ...]


def _byline(article: Article) -> str:
    """Every name of the byline in one line, as the feeds write it."""
    names = (clean_line(a.name) or clean_line(a.slug) for a in article.authors)
    return byline([Person(name, None) for name in names if name])


def item(config: Config, article: Article) -> Item:
    """One article as the email shows it: every URL absolute and a valid URI."""
    url = to_uri(permalink(config.site, article.slug, article.id))
    scheme = urlsplit(config.site.root).scheme or "https"  # for a protocol-relative image
    image = alt = ""
    if article.image is not None and clean_text(article.image.url):
        image = to_uri(absolute_url(clean_text(article.image.url), url, scheme))
        alt = clean_line(article.image.alt) or clean_line(article.image.caption)
        alt = alt or entry_title(article)
    return Item(
        title=entry_title(article),
        url=url,
        byline=_byline(article),
        standfirst=clean_line(article.standfirst),
        image=image,
        alt=alt,
    )


def groups(config: Config, digest: DigestConfig, articles: Sequence[Article]) -> list[Group]:
    """The articles by section, in the digest's order (else config.toml's), newest first in each;
    articles of no configured section last, under :data:`OTHER`."""
    order = list(digest.sections) or [s.slug for s in config.sections]
    titles = {s.slug: s.title for s in config.sections}
    buckets: dict[str | None, list[Item]] = {}
    for article in articles:
        key = article.section if article.section in order else None
        buckets.setdefault(key, []).append(item(config, article))
    found = [
        Group(titles.get(slug, slug), tuple(buckets[slug])) for slug in order if slug in buckets
    ]
    if None in buckets:
        found.append(Group(OTHER, tuple(buckets[None])))
    return found


def _long_date(cut: Cutoff) -> str:
    day = cut.edition
    return f"{day:%A} {day.day} {day:%B %Y}"


def compose(
    config: Config,
    digest: DigestConfig,
    cut: Cutoff,
    start: datetime,
    articles: Sequence[Article],
) -> Edition:
    """The edition of ``cut``, written out (pure: the same articles give the same bytes)."""
    if not articles:
        return Edition(digest.slug, cut.edition, cut.at, start, 0)
    site = config.site
    root = site.root
    title = f"{clean_line(digest.title)}, {_long_date(cut)}"
    grouped = groups(config, digest, articles)
    lead = clean_line(digest.lead)
    content = templates.get_template("digest_edition.html").render(
        title=clean_line(digest.title),
        day=_long_date(cut),
        site_title=clean_line(site.title),
        lead=lead,
        groups=grouped,
        width=IMAGE_WIDTH,
    )
    page_url = to_uri(root + edition_path(digest.slug, cut.edition.isoformat()))
    feed_url = to_uri(root + feed_path(Scope("digest", digest.slug), FORMATS[0]))
    page = templates.get_template("digest_page.html").render(
        language=site.language,
        title=title,
        # The edition's own template output, autoescaped already: safe to place as is.
        edition=Markup(content),  # noqa: S704
        outer=PAGE_WIDTH,
        page_url=page_url,
        feed_url=feed_url,
        site_url=to_uri(root + "/"),
        site_title=clean_line(site.title),
    )
    headlines = [entry.title for group in grouped for entry in group.articles]
    count = f"{len(articles)} article{'s' if len(articles) != 1 else ''}"
    summary = truncate(f"{lead + ' ' if lead else ''}{count}: {'; '.join(headlines)}", 300)
    return Edition(
        slug=digest.slug,
        edition=cut.edition,
        cutoff=cut.at,
        period_start=start,
        articles=len(articles),
        title=title,
        summary=summary,
        content_html=content,
        page_html=page,
        page_text=plain_text(title, lead, grouped, page_url, clean_line(site.title), root),
    )


def plain_text(
    title: str, lead: str, grouped: Sequence[Group], page_url: str, site_title: str, root: str
) -> str:
    """The text/plain part: every headline with its link on the line below."""
    lines = [title, "=" * len(title), ""]
    if lead:
        lines += [lead, ""]
    for group in grouped:
        lines += [group.title.upper(), ""]
        for entry in group.articles:
            lines.append(entry.title)
            if entry.byline:
                lines.append(f"By {entry.byline}")
            if entry.standfirst:
                lines.append(entry.standfirst)
            lines += [entry.url, ""]
    lines += ["-- ", f"Read this edition online: {page_url}", f"{site_title}: {root}/", ""]
    return "\n".join(lines)


# -- freezing -------------------------------------------------------------------


def freeze_due(config: Config, store: Store, now: datetime) -> list[Edition]:
    """Freeze every edition whose cut-off has passed and that is not kept yet (in a thread).

    Looks at each digest's last :data:`CATCH_UP` cut-offs; the empty ones are
    kept as considered, and only those with articles are returned.
    """
    frozen: list[Edition] = []
    for digest in config.digests:
        due = cutoffs_until(digest, now, CATCH_UP)
        kept = kept_dates(store, digest.slug, due[0].edition)
        for cut in due:
            if cut.edition in kept:
                continue
            start = previous_cutoff(digest, cut).at
            found = period_articles(store, start, cut.at, digest.sections, digest.max_articles)
            edition = compose(config, digest, cut, start, found)
            if freeze(store, edition, now) and edition.articles:
                log.info("digest %s: edition %s frozen", digest.slug, cut.edition)
                frozen.append(edition)
    return frozen


def next_due(config: Config, now: datetime) -> datetime | None:
    """The next cut-off of any digest (None without digests)."""
    return min((next_cutoff(d, now).at for d in config.digests), default=None)


class EditionClerk:
    """The leader's clerk: freezes each edition when its cut-off passes (see the module notes)."""

    def __init__(
        self, live: LiveConfig, store: Store, *, clock: Clock = SYSTEM, tick: float = CLERK_TICK
    ) -> None:
        self.live = live
        self.store = store
        self.clock = clock
        self.tick = tick
        self._config: Config | None = None
        self._due = float("-inf")
        #: Editions frozen by this clerk, for /metrics and tests.
        self.frozen = 0

    async def step(self) -> list[Edition]:
        """Freeze what is due; cheap (a comparison) until a cut-off passes or the config changes."""
        config = self.live.config
        if config is self._config and self.clock.time() < self._due:
            return []
        now = self.clock.now()
        frozen = await asyncio.to_thread(freeze_due, config, self.store, now)
        self.frozen += len(frozen)
        self._config = config
        upcoming = next_due(config, now)
        self._due = upcoming.timestamp() if upcoming is not None else float("inf")
        return frozen

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a busy or full store, a bad look: try again next tick
                log.exception("freezing digest editions failed; trying again")
            await asyncio.sleep(self.tick)
