"""Saving an edit of config.toml: on the file as it is now, checked in full, replaced whole.

The admin area's edits come through here (the text-to-text edits themselves
are ``syndicate.tomledit``):

1. the file is read as it is on disk now, so whatever was saved meanwhile, by
   another editor or by hand, is what the edit applies to and is kept;
2. its fingerprint (``syndicate.live.fingerprint``: SHA-256 of the bytes) must
   be the one the editor's form was made from, else :class:`Conflict`: the
   editor is shown the file as it now stands instead of saving over a change
   they have not seen;
3. the result is validated in full (``syndicate.config.parse_config``, the
   same check as ``syndicate check`` and the live reload): a refused edit
   raises :class:`~syndicate.config.ConfigError` with every problem and its
   key path, and nothing is written;
4. it replaces the file atomically: a temporary file in the same folder,
   written, flushed and fsynced, renamed over config.toml (readers see the old
   file or the new one, never half of one; a crash leaves one or the other),
   and the folder fsynced so the rename itself is durable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syndicate.config import Config, parse_config
from syndicate.errors import SyndicateError
from syndicate.tomledit import EditError


class Conflict(SyndicateError):
    """config.toml changed since the editor's form was made from it."""


def fingerprint_of(data: bytes) -> str:
    """What ``syndicate.live.fingerprint`` says of a file holding ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Prepared:
    """An edit checked and ready to write: the bytes before and after, the config after."""

    path: Path
    before: bytes
    after: bytes
    config: Config

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.after)


def prepare(path: Path, expected: str, edit: Callable[[str], str]) -> Prepared:
    """Apply ``edit`` to the file as it is now, if it is still the one the form was made from.

    Raises :class:`Conflict`, :class:`~syndicate.tomledit.EditError` or
    :class:`~syndicate.config.ConfigError`; writes nothing.
    """
    try:
        before = path.read_bytes()
    except OSError as exc:
        raise EditError(f"cannot read {path}: {exc.strerror or exc}") from None
    if fingerprint_of(before) != expected:
        raise Conflict(
            f"{path.name} changed since you opened this page (another editor saved, or it "
            "was edited on the server)"
        )
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(f"{path.name} is not UTF-8 text; fix it by hand") from None
    after = edit(text)
    config = parse_config(after, path)
    return Prepared(path, before, after.encode("utf-8"), config)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole: temp file, fsync, rename, fsync the folder."""
    folder = path.parent
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):  # keep the file's permissions
            os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


__all__ = ["Conflict", "Prepared", "fingerprint_of", "prepare", "write_atomically"]
