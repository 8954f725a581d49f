"""The types each fetch stage hands to the next, named for the stage.

:class:`Validators` and :class:`CleanEntry` are stored as they are, so
they are defined with the shapes the store shares (:mod:`syndicate.models`)
and only re-exported here, for the stages that make them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from syndicate.errors import SyndicateError
from syndicate.models import CleanEntry, Validators

__all__ = [
    "CleanEntry",
    "EntryData",
    "FeedData",
    "FetchError",
    "Retrieved",
    "Stage",
    "Validators",
]

# -- retrieve -----------------------------------------------------------------

Stage = Literal["ssrf", "dns", "connect", "timeout", "http", "size", "redirect", "parse", "empty"]


@dataclass(frozen=True)
class Retrieved:
    """A successful response (200) or a 304 (``body`` None)."""

    status: int
    #: The URL the body came from, after every redirect.
    final_url: str
    #: Set when every hop was permanent (301/308): the source's new address.
    permanent_url: str | None
    body: bytes | None
    headers: Mapping[str, str]
    validators: Validators
    elapsed: float = 0.0


class FetchError(SyndicateError):
    """A fetch that failed; ``stage`` says where, as Miniflux's errors do."""

    def __init__(
        self,
        stage: Stage,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        gone: bool = False,
        permanent_url: str | None = None,
    ) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.gone = gone
        self.permanent_url = permanent_url

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its real arguments, so it survives the parser's process pool
        # (the default would call FetchError("stage: message") and fail).
        return (self.__class__, (self.stage, self.message), self.__dict__)


# -- parse --------------------------------------------------------------------


@dataclass(frozen=True)
class EntryData:
    """One entry as the document had it: nothing cleaned or trusted yet."""

    guid: str | None
    link: str | None
    #: An HTML fragment (plain-text titles arrive escaped).
    title: str | None
    published: datetime | None
    updated: datetime | None
    #: Base URL in force for this entry (xml:base, else the feed's base, else final URL).
    base: str | None = None
    #: An HTML fragment (plain text arrives escaped): the entry's summary, else
    #: its content. What :mod:`.clean` makes a title from when there is none.
    text: str | None = None
    #: The language the entry declares for itself (Atom ``xml:lang`` in force on
    #: its title, RSS ``dc:language``, JSON Feed item ``language``), as written.
    language: str | None = None


@dataclass(frozen=True)
class FeedData:
    #: The source's own title, an HTML fragment like an entry's (not cleaned yet).
    title: str | None
    #: The source's home page as the document gives it (not judged yet).
    link: str | None
    #: RSS <ttl>, in minutes.
    ttl: int | None
    #: Possibly none: a well-formed feed with no entries is a feed.
    entries: tuple[EntryData, ...]
    #: Why the parser complained, if it did (the entries may still be usable).
    warning: str | None = None
    #: The source's language as the document declares it (RSS ``<language>``,
    #: ``xml:lang`` on the root, JSON Feed ``language``), not judged yet.
    language: str | None = None
