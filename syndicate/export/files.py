"""An export directory: each document as a file, its gzip and br forms beside it, and a manifest.

A document at ``/sections/news/feed.atom`` is the file
``sections/news/feed.atom``, with ``feed.atom.gz`` and ``feed.atom.br`` next
to it: the very bytes the server sends in each coding, so a static host
serves exactly what the origin would. Every file is written whole beside
its place and renamed over it (rename is atomic on POSIX), so a reader of
the directory, nginx included, never sees half a file. Each file's mtime is
the document's Last-Modified, so a static server's own Last-Modified (and
nginx's ETag, made of mtime and size) moves exactly when the bytes do.

``export-manifest.json`` says, per public path, the file, its content type,
ETag, Last-Modified, every response header the origin sends, and the file
of each coding: what an uploader to an object store needs to set metadata.
``.nginx/headers.map`` gives nginx the headers it cannot derive from a file
(see deploy/nginx/export.conf).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from syndicate.documents.rendered import CODINGS, Rendered

MANIFEST: Final = "export-manifest.json"
#: nginx map files (http context), included by deploy/nginx/export.conf.
NGINX_DIR: Final = ".nginx"
#: File suffix of each content coding.
SUFFIXES: Final = {"gzip": ".gz", "br": ".br"}
#: Headers nginx takes from the maps, per document: they depend on the document
#: (the rest deploy/nginx/export.conf spells, per location).
MAPPED_HEADERS: Final = ("Cache-Control", "Content-Security-Policy")


@dataclass
class Entry:
    """One document of an export, as the manifest records it."""

    file: str
    content_type: str
    etag: str
    last_modified: str | None
    headers: dict[str, str]
    encodings: dict[str, str] = field(default_factory=dict)


def file_of(path: str) -> str:
    """The file (relative to the export) that holds the document at public ``path``."""
    relative = path.lstrip("/")
    if not relative or ".." in relative.split("/") or "?" in relative:
        raise ValueError(f"{path!r} cannot be a file of an export")
    return relative


def write_atomically(
    target: Path, data: bytes, mtime: float | None, folders: set[Path] | None = None
) -> None:
    """``data`` at ``target``, whole or not at all: written beside it, then renamed over it.

    ``folders`` remembers the folders already made, so a large export does
    not ask the file system again for each of its files.
    """
    if folders is None or target.parent not in folders:
        target.parent.mkdir(parents=True, exist_ok=True)
        if folders is not None:
            folders.add(target.parent)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    with open(partial, "wb") as out:
        out.write(data)
        if mtime is not None:
            out.flush()  # a write after it would move the mtime again
            os.utime(out.fileno(), (mtime, mtime))
    os.replace(partial, target)


class ExportDir:
    """The files of one export and its manifest, kept in memory while exporting."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, Entry] = {}
        self.files_written = 0
        self.bytes_written = 0
        self.folders: set[Path] = set()
        #: Each entry's manifest line, kept with the entry it was made from.
        self._json: dict[str, tuple[Entry, str]] = {}
        found = root / MANIFEST
        if found.exists():
            try:
                raw = json.loads(found.read_text(encoding="utf-8"))
                self.entries = {p: Entry(**e) for p, e in raw["documents"].items()}
            except (ValueError, KeyError, TypeError):
                self.entries = {}  # an unreadable manifest: everything is written again

    def put(self, path: str, rendered: Rendered) -> int:
        """Write a document in every coding unless the export holds these bytes; files written."""
        old = self.entries.get(path)
        entry = self.entry(path, rendered)
        if old is not None and old == entry and (self.root / entry.file).exists():
            return 0
        modified = rendered.last_modified.timestamp() if rendered.last_modified else None
        written = 0
        for coding in ("identity", *CODINGS):
            name = entry.file if coding == "identity" else entry.encodings[coding]
            data = rendered.body_for(coding)
            write_atomically(self.root / name, data, modified, self.folders)
            written += 1
            self.bytes_written += len(data)
        self.entries[path] = entry
        self.files_written += written
        return written

    def entry(self, path: str, rendered: Rendered) -> Entry:
        name = file_of(path)
        return Entry(
            file=name,
            content_type=rendered.content_type,
            etag=rendered.etag,
            last_modified=rendered.last_modified_http,
            headers={k: v for k, v in rendered.headers.items() if k != "Content-Type"},
            encodings={coding: name + SUFFIXES[coding] for coding in CODINGS},
        )

    def remove(self, path: str) -> int:
        """Delete a document that no longer exists; files removed."""
        entry = self.entries.pop(path, None)
        if entry is None:
            return 0
        removed = 0
        for name in (entry.file, *entry.encodings.values()):
            try:
                (self.root / name).unlink()
                removed += 1
            except FileNotFoundError:
                pass
        self.files_written += removed
        return removed

    def keep_only(self, paths: Iterable[str]) -> int:
        """Remove every document not in ``paths`` (after a full export); files removed."""
        keep = set(paths)
        return sum(self.remove(p) for p in [p for p in self.entries if p not in keep])

    def save(self, site: str) -> None:
        """The manifest and the nginx maps, each written atomically (the map only if it moved).

        Each entry's JSON is made once and kept, so writing the manifest
        again after a change costs a join, not a serialisation of every
        document (about 180,000 at 1,000,000 articles).
        """
        pieces = []
        for path, entry in self.entries.items():
            kept = self._json.get(path)
            if kept is None or kept[0] is not entry:
                text = json.dumps(asdict(entry), ensure_ascii=False)
                kept = self._json[path] = (
                    entry,
                    f"  {json.dumps(path, ensure_ascii=False)}: {text}",
                )
            pieces.append(kept[1])
        for gone in [p for p in self._json if p not in self.entries]:
            del self._json[gone]
        head = f'{{"version": 1, "site": {json.dumps(site)}, "documents": {{\n'
        data = (head + ",\n".join(pieces) + "\n}}\n").encode("utf-8")
        write_atomically(self.root / MANIFEST, data, None)
        maps = nginx_maps(self.entries)
        target = self.root / NGINX_DIR / "headers.map"
        if not target.exists() or target.read_bytes() != maps:
            write_atomically(target, maps, None)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nginx_maps(entries: Mapping[str, Entry]) -> bytes:
    """One nginx ``map`` per header nginx cannot make from a file, keyed by the request's path.

    Only documents whose value differs from the default are listed (for
    Cache-Control: closed archives and the pages that are not feeds), so the
    maps stay small; the default is the feeds' own Cache-Control.
    """
    default_control = next(
        (
            e.headers.get("Cache-Control", "")
            for p, e in entries.items()
            if p.endswith("/feed.atom") and "/archive/" not in p
        ),
        "",
    )
    rows: dict[str, list[str]] = {header: [] for header in MAPPED_HEADERS}
    for path, entry in entries.items():
        for header in MAPPED_HEADERS:
            value = entry.headers.get(header, "")
            if value != (default_control if header == "Cache-Control" else ""):
                rows[header].append(f"    {_quoted(path)} {_quoted(value)};")
    lines: list[str] = []
    for header in MAPPED_HEADERS:
        variable = "$export_" + header.lower().replace("-", "_")
        default = default_control if header == "Cache-Control" else ""
        lines += [f"map $request_uri {variable} {{", f"    default {_quoted(default)};"]
        lines += rows[header]
        lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def manifest_of(root: Path) -> dict[str, Any]:
    """The manifest of an export, as JSON (for tests and tools)."""
    loaded: dict[str, Any] = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    return loaded
