"""The base of every error syndicate turns into a message for a person.

The CLI prints a :class:`SyndicateError` as one line (no traceback) and exits
non-zero; the web layer answers it with a plain-text 4xx or 503. Anything
else that escapes is a bug and is reported as one.
"""

from __future__ import annotations


class SyndicateError(Exception):
    """Something a user can fix: a bad file, a missing store, a refused value."""
