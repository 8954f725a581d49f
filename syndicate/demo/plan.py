"""The plan: everything about the demo publication that is not per-article text.

Before a single row is written the demo settles its frame: the authors and
tags (with fixed ids), one rendered :class:`~syndicate.demo.render.Desk` per
configured section and the weights that share articles between them, the
publication time of every article, the weekly print issues those times fall
into, which recent pieces are drafts and which are scheduled. The rows of
:mod:`syndicate.demo.rows` only look these up, so the frame is decided once
and the per-article loop stays a handful of table lookups.

The calendar hangs on ``now``: the week holding it carries issue
:data:`LAST_ISSUE`, the newest piece is twenty minutes older, and one to
three are scheduled a little after. Nothing here reads a clock; the caller
passes ``now`` in, which is what makes a seed reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syndicate.config import Config
from syndicate.demo.corpus import AUTHORS, TAGS
from syndicate.demo.render import Desk, lead_images, render_desk
from syndicate.demo.templates import HEADLINES
from syndicate.samplemedia import issue_pdf
from syndicate.store.bulk import AuthorRow, IssueRow, TagRow
from syndicate.text import slugify

#: The issue that carries the week of ``now``; earlier weeks count down from it.
LAST_ISSUE = 2094
#: Roughly how many web articles a week the paper publishes.
ARTICLES_PER_WEEK = 9

#: Most bits used to pick from a pre-rendered pool (pools hold 2**bits entries).
#: Small demos use fewer: rendering the pools is the fixed cost of every run.
POOL_BITS = 10
HEADLINES_PER_DESK = 4096


@dataclass(frozen=True)
class Plan:
    """The fixed frame of the publication: who writes, which weeks, which tags."""

    authors: list[AuthorRow]
    tags: list[TagRow]
    issues: list[IssueRow]
    desks: list[Desk]
    #: 64 slots of desk indexes, so one ``getrandbits(6)`` picks a section by weight.
    desk_table: tuple[int, ...]
    lead_images: tuple[tuple[str, str, str] | None, ...]
    #: Seconds since ``epoch`` of each article, in id order.
    times: list[int]
    epoch: datetime
    first_issue: int
    drafts: frozenset[int]
    latest_published: int
    #: Bits that pick from the desks' bodies and bylines and from the lead images.
    bits: int


_DESK_WEIGHTS = {
    "news": 20,
    "workplace": 12,
    "international": 12,
    "comment": 9,
    "features": 5,
    "culture": 6,
}


def _weighted_slots(weights: Sequence[int], slots: int) -> tuple[int, ...]:
    """Indexes repeated in proportion to ``weights`` (largest remainder), filling ``slots``.

    Drawn at random, 64 slots can skew a section by half; apportioned, the
    shares come out as configured at every size.
    """
    total = sum(weights)
    exact = [w * slots / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: slots - sum(counts)]:
        counts[i] += 1
    return tuple(i for i, n in enumerate(counts) for _ in range(n))


def make_plan(config: Config, articles: int, now: datetime, rng: random.Random) -> Plan:
    """Decide everything that is not per-article text: the frame all batches share."""
    root = config.site.root
    bits = max(6, min(POOL_BITS, (articles - 1).bit_length()))
    sizes = (max(64, min(HEADLINES_PER_DESK, articles)), 1 << bits)
    authors: list[AuthorRow] = []
    slugs: set[str] = set()
    for i, (name, _desk_key, bio) in enumerate(AUTHORS, start=1):
        slug = slugify(name)
        if slug in slugs:
            raise AssertionError(f"demo author slug {slug!r} is not unique")
        slugs.add(slug)
        authors.append((i, slug, name, bio))
    tags = [(i, slugify(name), name) for i, (name, _) in enumerate(TAGS, start=1)]
    tag_ids = {name: i for i, (name, _) in enumerate(TAGS, start=1)}

    # Sections: known slugs get their own voice; unknown ones borrow the news voice.
    sections: list[str | None] = [s.slug for s in config.sections] or [None]
    keys = [s if s in HEADLINES else "news" for s in sections]
    everyone = [a[0] for a in authors]
    desks: list[Desk] = []
    for index, (section, key) in enumerate(zip(sections, keys, strict=True)):
        regulars = [a for a, (_, d, _) in zip(everyone, AUTHORS, strict=True) if d == section]
        if not regulars:  # an unfamiliar section gets a share of everyone, round-robin
            regulars = everyone[index :: len(sections)] or everyone
        desk_tags = [tag_ids[n] for n, desks_of in TAGS if key in desks_of]
        desks.append(render_desk(rng, sizes, key, section, tag_ids, desk_tags, regulars, everyone))
    desk_table = _weighted_slots([_DESK_WEIGHTS.get(s or "", 8) for s in sections], 64)

    # Weeks run Monday to Sunday; the week holding ``now`` carries LAST_ISSUE.
    # At least two weeks, so a ``now`` early on a Monday still leaves working hours behind it.
    weeks = max(2, min(LAST_ISSUE, -(-articles // ARTICLES_PER_WEEK)))
    today = now.date()
    epoch_day = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    epoch = datetime(epoch_day.year, epoch_day.month, epoch_day.day, tzinfo=UTC)
    first_issue = LAST_ISSUE - weeks + 1

    scheduled = min(1 + rng.getrandbits(1) + rng.getrandbits(1), articles - 1)
    past = articles - scheduled
    end = int((now - epoch).total_seconds()) - 1200  # the newest piece is 20 minutes old
    days = end // 86400 + 1
    times: list[int] = []
    randrange = rng.randrange
    while len(times) < past:
        # Between 06:00 and 23:00, as a newsroom works; resample past the end.
        moment = randrange(days) * 86400 + 21600 + randrange(61200)
        if moment <= end:
            times.append(moment)
    times.sort()
    base = int((now - epoch).total_seconds())
    times += sorted(base + rng.randrange(2 * 3600, 4 * 86400) for _ in range(scheduled))

    last_week = times[-1] // 604800 if times else 0
    issues = []
    for week in range(last_week + 1):
        number = first_issue + week
        day = (epoch + timedelta(days=7 * week + 3)).date()  # the paper is out on Thursday
        # The PDF `syndicate serve` makes for the demo (server.demo_media), so
        # the length RSS enclosures announce is the size readers download.
        size = len(issue_pdf(number))
        issues.append((number, day.isoformat(), f"{root}/pdf/issue-{number}.pdf", size))

    draft_count = min(max(1, articles // 400), max(past - 1, 0))
    recent = range(max(1, past - 20 * draft_count), past + 1)
    drafts = frozenset(rng.sample(recent, min(draft_count, len(recent))))
    return Plan(
        authors=authors,
        tags=tags,
        issues=issues,
        desks=desks,
        desk_table=desk_table,
        lead_images=lead_images(rng, 1 << bits, root),
        times=times,
        epoch=epoch,
        first_issue=first_issue,
        drafts=drafts,
        latest_published=past,
        bits=bits,
    )
