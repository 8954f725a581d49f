"""Validate one incoming article record (a JSON object) into an ArticleIn.

The importer and the publishing API take the same shape, so they share this
pure function: it never touches the store, and it reports every bad field of
a record at once as ``{field: reason}`` so a CMS can show them all.

Titles, author names and tag names lose their bidirectional embedding,
override and isolate controls (:func:`syndicate.text.strip_bidi_controls`,
the rule the fetcher applies to outside titles); bodies and standfirsts are
stored as sent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from syndicate.errors import SyndicateError
from syndicate.models import STATUSES, ArticleIn, Author, Image, PrintIssue, Status, Tag
from syndicate.text import collapse_whitespace, encodable, slugify, strip_bidi_controls

FIELDS = (
    "slug",
    "title",
    "standfirst",
    "body",
    "section",
    "issue",
    "published",
    "updated",
    "authors",
    "tags",
    "image",
    "status",
)
MAX_TITLE = 1_000
MAX_BODY = 2_000_000
MAX_AUTHORS = 20
MAX_TAGS = 50
#: How far in the future ``updated`` may be when :func:`parse_record` is given
#: ``now``. ``updated`` says when an article was last changed, so a later time
#: is a mistake (a wrong offset, a scheduled time in the wrong field) that
#: would keep the article at the top of "recently updated" sorts and make
#: readers show it as changed again and again; the few minutes allow for a
#: CMS whose clock runs a little ahead of the server's. (``published`` in the
#: future is allowed: it schedules the article.)
UPDATED_FUTURE_SLACK: Final = timedelta(minutes=5)


class RecordError(SyndicateError, ValueError):
    """A record that cannot be stored; ``errors`` maps each field to its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# RFC 3339 section 5.6, plus a missing offset (taken as UTC) and a space for
# the T, which CMS exports often use.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")


def parse_time(value: Any) -> datetime:
    """RFC 3339 to aware UTC; a time without an offset is taken as UTC."""
    if not isinstance(value, str):
        raise ValueError(f"must be an RFC 3339 date-time string, got {type(value).__name__}")
    text = value.strip()
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC).replace(microsecond=0)
    except (ValueError, OverflowError):
        raise ValueError(f"not an RFC 3339 date-time in range: {value!r}") from None
    if not 1 <= moment.year <= 9999:
        raise ValueError(f"year out of range: {value!r}")
    return moment


def _stamp(moment: datetime) -> str:
    """A moment as RFC 3339 in UTC, to the second, for error messages."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any, *, required: bool = False, limit: int = MAX_BODY) -> str:
    if value is None:
        if required:
            raise ValueError("is required")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError("must not be empty")
    if len(value) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return encodable(value)


def _url(value: Any) -> str:
    text = _text(value, required=True, limit=4000).strip()
    parts = urlsplit(text)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise ValueError(f"must be an http(s) or relative URL, got {text!r}")
    return text


def _line(text: str) -> str:
    """A title or a name: bidi controls out, whitespace folded (see the module notes)."""
    return collapse_whitespace(strip_bidi_controls(text))


def _authors(value: Any) -> tuple[Author, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("must be a list of names or {slug, name} objects")
    if len(value) > MAX_AUTHORS:
        raise ValueError(f"has more than {MAX_AUTHORS} authors")
    out: list[Author] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            name = _line(encodable(item))
            if not name:
                raise ValueError(f"[{i}] is an empty name")
            out.append(Author(slug=slugify(name), name=name))
        elif isinstance(item, Mapping):
            name = _line(_text(item.get("name"), required=True, limit=300))
            if not name:
                raise ValueError(f"[{i}].name must not be empty")
            slug = item.get("slug")
            if slug is None:
                slug = slugify(name)
            elif not isinstance(slug, str) or not slug or slugify(slug) != slug:
                raise ValueError(f"[{i}].slug must be a lowercase slug, got {slug!r}")
            url = item.get("url")
            email = item.get("email")
            out.append(
                Author(
                    slug=slug,
                    name=name,
                    bio=_text(item.get("bio"), limit=10_000),
                    email=_text(email, limit=300) or None if email is not None else None,
                    url=_url(url) if url is not None else None,
                )
            )
        else:
            raise ValueError(f"[{i}] must be a name or a {{slug, name}} object")
    slugs = [a.slug for a in out]
    if len(set(slugs)) != len(slugs):
        raise ValueError("names the same author twice")
    return tuple(out)


def _tags(value: Any) -> tuple[Tag, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ValueError("must be a list of strings")
    if len(value) > MAX_TAGS:
        raise ValueError(f"has more than {MAX_TAGS} tags")
    seen: dict[str, Tag] = {}
    for raw in value:
        name = _line(encodable(raw))
        if not name:
            continue
        seen.setdefault(slugify(name), Tag(slug=slugify(name), name=name))
    return tuple(seen.values())


def _issue(value: Any) -> PrintIssue | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("must be an issue number or an {number, date, pdf_url} object")
    when: date | None = None
    pdf: str | None = None
    length: int | None = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 302.0 is issue 302
    if isinstance(value, int):
        number = value
    elif isinstance(value, Mapping):
        raw_number = value.get("number")
        if not isinstance(raw_number, int) or isinstance(raw_number, bool):
            raise ValueError("number must be an integer")
        number = raw_number
        raw_date = value.get("date")
        try:
            when = date.fromisoformat(raw_date) if raw_date is not None else None
        except (TypeError, ValueError):
            raise ValueError(f"date must be YYYY-MM-DD, got {raw_date!r}") from None
        pdf = _url(value["pdf_url"]) if value.get("pdf_url") is not None else None
        length = _pdf_length(value.get("pdf_length"))
    else:
        raise ValueError("must be an issue number or an {number, date, pdf_url} object")
    if not 0 < number < 10**9:
        raise ValueError(f"must be a positive issue number, got {number}")
    return PrintIssue(number=number, date=when, pdf_url=pdf, pdf_length=length)


#: The largest PDF size taken (1 TB): beyond it the number is a mistake.
MAX_PDF_LENGTH = 10**12


def _pdf_length(value: Any) -> int | None:
    """The PDF's size in bytes: a positive integer (JSON's 302.0 is 302), or None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_PDF_LENGTH:
        raise ValueError(
            f"pdf_length must be the PDF's size in bytes (a positive integer), got {value!r}"[:200]
        )
    return value


def _image(value: Any) -> Image | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Image(url=_url(value))
    if not isinstance(value, Mapping):
        raise ValueError("must be a URL or an {url, caption, alt} object")
    return Image(
        url=_url(value.get("url")),
        caption=_text(value.get("caption"), limit=5000),
        alt=_text(value.get("alt"), limit=5000),
    )


def parse_record(
    record: Any, sections: Collection[str] | None = None, *, now: datetime | None = None
) -> ArticleIn:
    """Validate a decoded JSON record; raise RecordError naming every bad field.

    ``sections`` is the set of configured section slugs; None skips that check
    (the store itself does not know the config). ``now`` is the time of the
    import or request: given, an ``updated`` more than
    :data:`UPDATED_FUTURE_SLACK` after it is refused; None skips that check.
    """
    if not isinstance(record, Mapping):
        raise RecordError({"record": "must be a JSON object"})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def take(name: str, parse: Any) -> None:
        try:
            values[name] = parse(record.get(name))
        except ValueError as exc:
            errors[name] = str(exc)

    for unknown in sorted(set(record) - set(FIELDS)):
        errors[str(unknown)] = "unknown field"

    def slug(value: Any) -> str:
        text = _text(value, required=True, limit=300)
        if slugify(text) != text:
            raise ValueError(f"must be lowercase letters, digits and hyphens, got {text!r}")
        return text

    def section(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be a section slug")
        if sections is not None and value not in sections:
            known = ", ".join(sorted(sections)) or "none"
            raise ValueError(f"unknown section {value!r} (configured: {known})")
        return value

    def status(value: Any) -> Status:
        if value is None:
            return "published"
        if value not in STATUSES:
            raise ValueError(f"must be 'published' or 'draft', got {value!r}")
        return value  # type: ignore[no-any-return]

    def published(value: Any) -> datetime:
        if value is None:
            raise ValueError("is required")
        return parse_time(value)

    def title(value: Any) -> str:
        text = _line(_text(value, required=True, limit=MAX_TITLE))
        if not text:
            raise ValueError("must not be empty")
        return text

    def updated(value: Any) -> datetime | None:
        if value is None:
            return None
        moment = parse_time(value)
        if now is not None:
            current = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
            latest = current.astimezone(UTC) + UPDATED_FUTURE_SLACK
            if moment > latest:
                minutes = int(UPDATED_FUTURE_SLACK.total_seconds() // 60)
                raise ValueError(
                    f"is in the future ({_stamp(moment)}, more than {minutes} minutes after "
                    f"{_stamp(current)}); set it to when the article was last changed"
                )
        return moment

    take("slug", slug)
    take("title", title)
    take("standfirst", lambda v: _text(v, limit=20_000))
    take("body", _text)
    take("section", section)
    take("issue", _issue)
    take("published", published)
    take("updated", updated)
    take("authors", _authors)
    take("tags", _tags)
    take("image", _image)
    take("status", status)
    if errors:
        raise RecordError(errors)
    return ArticleIn(**values)
