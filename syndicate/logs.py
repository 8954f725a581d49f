"""Where log lines go and what they look like: JSON for machines, plain lines for people.

Under systemd, in a container or behind a log shipper, standard error is a
pipe or a file, and one JSON object per line is what Loki, journald's
exporters and ``jq`` read without a parsing rule. On a terminal a person
reads it, and gets the usual ``time level logger: message`` line. Every line
written while a request is being answered carries that request's ID
(:data:`REQUEST_ID`, set by the web layer), so the lines of one request can
be found together.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

#: The ID of the request being answered in this task, or "" outside any request.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")

#: LogRecord attributes that are not extra fields given by the caller.
_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class WithRequestId(logging.Filter):
    """Stamp each record with the current request's ID (a handler filter: sees every logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, RFC 3339), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "")
        if request_id:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class HumanLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", "")
        return f"{text} [{request_id}]" if request_id else text


def setup(stream: TextIO | None = None, *, as_json: bool | None = None) -> logging.Handler:
    """Send log lines to ``stream`` (standard error): JSON unless it is a terminal.

    Replaces a handler an earlier call installed, so calling it twice (a test,
    a command calling another) never doubles the lines.
    """
    out = stream if stream is not None else sys.stderr
    if as_json is None:
        as_json = not out.isatty()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines() if as_json else HumanLines())
    handler.addFilter(WithRequestId())
    handler.set_name("syndicate")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "syndicate"]:
        root.removeHandler(old)
    root.addHandler(handler)
    # syndicate's own news from INFO up; libraries' only when they warn.
    root.setLevel(logging.WARNING)
    logging.getLogger("syndicate").setLevel(logging.INFO)
    return handler
