"""Read JSON Lines article files: one record a line, every bad line reported.

Reading is separate from storing so that a file is checked in full before
anything is written: a bad line costs the user one message with its line
number, never the import. The good lines are then stored in short batches,
each one atomic (``Store.upsert_batches``), so a long import never keeps the
publishing API waiting; an import cut short (a full disk, a crash) is
completed by running it again, since storing is an upsert by slug.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from syndicate.models import ArticleIn
from syndicate.records import RecordError, parse_record


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ReadResult:
    records: list[ArticleIn] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _number(text: str) -> int | float:
    """JSON has one number type: ``302.0`` is the integer 302, as JSON Schema says too."""
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def read_json(text: str) -> Any:
    """One article's JSON, as the importer and the API read it; ValueError says what is wrong.

    Python's parser raises more than JSONDecodeError on hostile input: a
    RecursionError for arrays nested thousands deep, a ValueError for an
    integer of thousands of digits (CVE-2020-10735's limit). Each becomes a
    sentence about that one line or body, never a crash of the whole run.
    """
    try:
        return json.loads(
            text.removeprefix("\ufeff"), parse_constant=_no_constants, parse_float=_number
        )
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # NaN and Infinity, an integer of 5000 digits
        reason = str(exc).split(";")[0]
        raise ValueError(f"not valid JSON: {reason}") from None


def read_jsonl(
    lines: Iterable[str | bytes],
    sections: Collection[str] | None,
    *,
    now: datetime | None = None,
) -> ReadResult:
    """Validate every line; a slug seen twice keeps its last line, as an upsert would.

    ``now`` lets parse_record refuse an ``updated`` in the future.
    """
    result = ReadResult()
    by_slug: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        result.lines = number
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                result.errors.append(
                    LineError(number, f"not UTF-8 ({exc.reason} at byte {exc.start})")
                )
                continue
        text = raw.strip().lstrip("\ufeff")
        if not text:
            continue
        try:
            data = read_json(text)
        except ValueError as exc:
            result.errors.append(LineError(number, str(exc)))
            continue
        try:
            record = parse_record(data, sections, now=now)
        except RecordError as exc:
            reasons = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
            slug = data.get("slug") if isinstance(data, dict) else None
            where = f" (slug {slug!r})" if isinstance(slug, str) else ""
            result.errors.append(LineError(number, reasons + where))
            continue
        if record.slug in by_slug:
            result.records[by_slug[record.slug]] = record
        else:
            by_slug[record.slug] = len(result.records)
            result.records.append(record)
    return result


def dump_record(record: ArticleIn) -> dict[str, object]:
    """The JSON shape of a record, as the importer and the API accept it."""
    out: dict[str, object] = {
        "slug": record.slug,
        "title": record.title,
        "standfirst": record.standfirst,
        "body": record.body,
        "section": record.section,
        "published": record.published.isoformat().replace("+00:00", "Z"),
        "authors": [{"slug": a.slug, "name": a.name} for a in record.authors],
        "tags": [t.name for t in record.tags],
        "status": record.status,
    }
    if record.updated is not None:
        out["updated"] = record.updated.isoformat().replace("+00:00", "Z")
    if record.issue is not None:
        issue: dict[str, object] = {"number": record.issue.number}
        if record.issue.date:
            issue["date"] = record.issue.date.isoformat()
        if record.issue.pdf_url:
            issue["pdf_url"] = record.issue.pdf_url
        if record.issue.pdf_length:
            issue["pdf_length"] = record.issue.pdf_length
        out["issue"] = issue
    if record.image is not None:
        out["image"] = {
            "url": record.image.url,
            "caption": record.image.caption,
            "alt": record.image.alt,
        }
    return out
