"""aiohttp's server log, made useful: one line per malformed request, a count of 5xx.

aiohttp logs every request its parser refuses (a broken header, a bad
Content-Length) on the ``aiohttp.server`` logger with a whole traceback, some
at ERROR, and answers it 400 itself. A malformed request is the client's
mistake: it gets one line here. Anything else logged there as "Error handling
request" is a handler that raised, which aiohttp answers 500: that one keeps
its traceback (it is a bug) and is counted, so /metrics shows 5xx.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp.http_exceptions import HttpProcessingError

#: aiohttp's logger for the server side of connections.
SERVER_LOGGER: Final = "aiohttp.server"


class ServerLog(logging.Filter):
    """A filter on aiohttp's server logger; ``errors`` counts the 500s it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.errors = 0
        self.malformed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
            self.malformed += 1
            reason = " ".join(str(error.message).split())[:200]
            record.msg = "malformed request refused (%s): %s"
            record.args = (error.code, reason)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
            return True
        if error is not None and record.getMessage().startswith("Error handling request"):
            self.errors += 1
        return True


def install() -> ServerLog:
    found = ServerLog()
    logging.getLogger(SERVER_LOGGER).addFilter(found)
    return found


def uninstall(found: ServerLog) -> None:
    logging.getLogger(SERVER_LOGGER).removeFilter(found)
