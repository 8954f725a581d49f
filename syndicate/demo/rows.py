"""The rows: every article of the plan, made cheaply enough for a million of them.

This is the demo's hot loop, and the reason the rest of the package exists
in the shape it does. Each article picks a desk by weight, takes that desk's
next headline, a pre-rendered body, byline and lead image (each chosen with
one ``getrandbits``), links back to a recent piece, and glues on its own
id, slug and times; nothing is formatted, escaped or slugged here except
that one link. Rows come out in id order, :data:`CHUNK` articles to a
:class:`~syndicate.store.bulk.Batch`, ready for :func:`syndicate.store.bulk.write`.

The random draws happen in a fixed order after the plan's, from the same
generator, so a seed gives the same rows.
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from syndicate.catalog import permalink_path
from syndicate.config import Config
from syndicate.demo.plan import Plan
from syndicate.demo.templates import LINK_LEADS
from syndicate.store.bulk import ArticleRow, ArticleTagRow, Batch, BylineRow

#: Articles per batch: one bulk insert of each table and one ``progress`` call.
CHUNK = 20_000


def _speller(epoch: datetime, seconds: int) -> Callable[[int], str]:
    """A fast formatter for seconds since ``epoch`` in the store's time format.

    ``strftime`` per row would cost more than the insert; date prefixes per
    day and a table of the 86,400 times of day make it two lookups.
    """
    days = seconds // 86400 + 2
    prefixes = [(epoch + timedelta(days=d)).strftime("%Y-%m-%dT") for d in range(days)]
    times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86400)]

    def spell(moment: int) -> str:
        day, second = divmod(moment, 86400)
        return prefixes[day] + times[second]

    return spell


def batches(plan: Plan, config: Config, rng: random.Random, size: int = CHUNK) -> Iterator[Batch]:
    """Yield the rows of every article, ``size`` articles at a time, in id order."""
    times = plan.times
    total = len(times)
    spell = _speller(plan.epoch, times[-1] + 4 * 86400 if times else 0)
    getrandbits = rng.getrandbits
    desks = plan.desks
    desk_table = plan.desk_table
    lead_images = plan.lead_images
    drafts = plan.drafts
    latest = plan.latest_published
    first_issue = plan.first_issue
    bits = plan.bits
    article_path = config.site.article_path
    cursors = [0] * len(desks)
    recent: list[tuple[str, str]] = []  # (path, title) of the last 256 published
    for start in range(0, total, size):
        articles: list[ArticleRow] = []
        bylines: list[BylineRow] = []
        tagged: list[ArticleTagRow] = []
        for index in range(start, min(start + size, total)):
            aid = index + 1
            moment = times[index]
            published = spell(moment)
            desk_index = desk_table[getrandbits(6)]
            desk = desks[desk_index]
            headlines = desk.headlines
            title, stem, tags, standfirst = headlines[cursors[desk_index] % len(headlines)]
            cursors[desk_index] += 1
            slug = f"{stem}-{aid}"
            if recent:
                path, linked = recent[getrandbits(8) % len(recent)]
                link = (
                    f'\n<p>{LINK_LEADS[getrandbits(8) % 6]} <a href="{path}">'
                    f"{html.escape(linked, quote=False)}</a></p>\n"
                )
            else:
                link = "\n"
            opening, rest = desk.bodies[getrandbits(bits)]
            body = opening + link + rest
            if getrandbits(4) == 0 and aid <= latest:  # a correction, a little later
                updated = spell(min(moment + 600 + getrandbits(17), times[latest - 1]))
            else:
                updated = published
            image = lead_images[getrandbits(bits)]
            status = "draft" if aid in drafts else "published"
            articles.append(
                (
                    aid,
                    slug,
                    title,
                    standfirst,
                    body,
                    desk.section,
                    first_issue + moment // 604800,
                    published,
                    updated,
                    image[0] if image else None,
                    image[1] if image else "",
                    image[2] if image else "",
                    status,
                )
            )
            byline = desk.bylines[getrandbits(bits)]
            for position, author in enumerate(byline):
                bylines.append((aid, position, author, published))
            for tag in tags:
                tagged.append((aid, tag, published))
            if status == "published" and aid <= latest:
                entry = (permalink_path(article_path, slug, aid), title)
                if len(recent) < 256:
                    recent.append(entry)
                else:
                    recent[aid & 255] = entry
        yield Batch(articles, bylines, tagged)
