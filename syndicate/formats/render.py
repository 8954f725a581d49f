"""One entry point for every format: ``render(fmt, spec, articles) -> bytes``.

The documents layer calls this and nothing else, so adding a format is one
line here. Each format module cites its specification.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol

from syndicate.formats import atom, jsonfeed, rss
from syndicate.formats.fragments import FRAGMENTS
from syndicate.formats.spec import FeedFormat, FeedSpec
from syndicate.formats.view import FeedView, forget_prepared
from syndicate.models import Article


class Builder(Protocol):
    """What each format module's ``build`` looks like."""

    def __call__(
        self, spec: FeedSpec, articles: Sequence[Article], *, enclosures: bool = True
    ) -> bytes: ...


BUILDERS: Final[dict[FeedFormat, Builder]] = {
    "rss": rss.build,
    "atom": atom.build,
    "json": jsonfeed.build,
}


def render(
    fmt: FeedFormat,
    spec: FeedSpec,
    articles: Sequence[Article],
    *,
    enclosures: bool = True,
) -> bytes:
    """The feed document in ``fmt``, as UTF-8 bytes; pure and deterministic.

    ``articles`` must already be in feed order (newest first) and already be
    the page to show; ``enclosures=False`` leaves out print-issue PDFs.
    """
    try:
        builder = BUILDERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown feed format {fmt!r}; expected one of {sorted(BUILDERS)}"
        ) from None
    return builder(spec, articles, enclosures=enclosures)


WRITERS: Final[dict[FeedFormat, Callable[[FeedView], bytes]]] = {
    "rss": rss.write,
    "atom": atom.write,
    "json": jsonfeed.write,
}


def render_view(fmt: FeedFormat, view: FeedView) -> bytes:
    """The feed document for a view made by the caller: the digest's, whose items are
    editions rather than articles. Pure and deterministic, like :func:`render`."""
    return WRITERS[fmt](view)


def forget() -> None:
    """Drop every entry kept between builds, so the next build starts from nothing.

    Builds remember each article's cleaned entry and its XML (see
    syndicate.formats.fragments); benchmarks call this to time a truly cold
    build, and tests to compare a build from kept entries with one without.
    """
    forget_prepared()
    FRAGMENTS.clear()
