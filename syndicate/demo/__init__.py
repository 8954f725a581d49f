"""A realistic demo publication, written straight into a fresh store file.

The demo has two jobs. It lets an editor see feeds full of believable
articles (Arabic and accented bylines, relative links and images, scheduled
pieces) the moment syndicate is installed, and it lets us measure the store
at sizes no real paper reaches: a million articles must be ready in about a
minute. The second job decides the shape of the code, one module per step:

- :mod:`~syndicate.demo.corpus` and :mod:`~syndicate.demo.templates` hold
  the words: who writes, about what, and in which voice per desk;
- :mod:`~syndicate.demo.render` does the expensive text work once, rendering
  headlines, standfirsts, paragraphs and bylines into pools;
- :mod:`~syndicate.demo.plan` fixes the frame: authors, tags, sections,
  every article's time, the print issues, drafts and scheduled pieces;
- :mod:`~syndicate.demo.rows` makes each article's rows by picking from the
  pools, which is all the per-article loop can afford;
- :mod:`syndicate.store.bulk` writes them: no SQL lives in this package.

This module is the entry point and the guard: it refuses to replace a store
that holds articles (unless told to) or that another process has open.
Everything is drawn from one ``random.Random(seed)``, so a seed always gives
the same publication for the same ``now``; the clock is only read for a
``now`` left out and to time the run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config
from syndicate.demo.plan import make_plan
from syndicate.demo.rows import batches
from syndicate.errors import SyndicateError
from syndicate.store import bulk
from syndicate.store.inuse import open_elsewhere


class DemoRefused(SyndicateError):
    """The target already holds real data and the caller did not ask to replace it."""


@dataclass(frozen=True)
class DemoReport:
    """What was written, for the CLI's closing line and for the benchmark."""

    articles: int
    authors: int
    issues: int
    tags: int
    seconds: float


def generate_demo(
    path: Path,
    config: Config,
    *,
    articles: int = 2400,
    now: datetime | None = None,
    replace: bool = False,
    seed: int = 2094,
    progress: Callable[[int], None] | None = None,
    clock: Clock = SYSTEM,
) -> DemoReport:
    """Write a demo publication of ``articles`` articles to the store at ``path``.

    ``now`` (by default ``clock.now()``) anchors the calendar (the newest
    article is a little older, one to three are scheduled a little after),
    so the same seed and ``now`` always give the same file. ``clock`` also
    times the run for the report. An existing store with articles is only
    replaced when ``replace`` is true; anything else raises
    :class:`DemoRefused` and leaves the file alone.
    """
    if articles < 1:
        raise ValueError(f"a demo needs at least one article, got {articles}")
    if now is None:
        now = clock.now()
    if now.tzinfo is None:
        raise ValueError("naive datetime given as now; attach a time zone first")
    started = clock.monotonic()
    path = Path(path)
    if open_elsewhere(path):
        raise DemoRefused(
            f"{path} is open in another process (a running `syndicate serve`?); "
            "stop it before replacing the store"
        )
    if not replace:
        found = bulk.count_articles(path)
        if found is None:
            raise DemoRefused(
                f"{path} exists and is not a syndicate store; pass --replace to overwrite"
            )
        if found:
            raise DemoRefused(f"{path} already holds {found} articles; pass --replace to overwrite")
    rng = random.Random(seed)
    plan = make_plan(config, articles, now.astimezone(UTC).replace(microsecond=0), rng)
    bulk.write(
        path,
        authors=plan.authors,
        tags=plan.tags,
        issues=plan.issues,
        batches=batches(plan, config, rng),
        progress=progress,
    )
    return DemoReport(
        articles=len(plan.times),
        authors=len(plan.authors),
        issues=len(plan.issues),
        tags=len(plan.tags),
        seconds=clock.monotonic() - started,
    )


__all__ = ["DemoRefused", "DemoReport", "generate_demo"]
