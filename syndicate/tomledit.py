"""Edits of config.toml that keep everything else in it byte for byte.

Editors write config.toml by hand and fill it with comments; the admin area
edits the same file. An edit must change the one table it is about and leave
every other byte alone: comments above, inside and below it, blank lines,
key order, quoting. So each edit here is a function of text to text:

* a ``[[sections]]`` or ``[[sidebar.sources]]`` table is a *block*: its header
  line through its last key line (comment lines inside it belong to it; the
  comments and blank lines after its last key belong to what follows, as a
  reader of the file takes them: "# --- The sidebar ---" heads the next part);
* a value is changed, added or removed by tomlkit on that block alone (it
  keeps the block's layout, inline comments and quoting, and spells values as
  valid TOML); blocks are added, removed and swapped as whole text;
* every result is then read back with ``tomllib`` and compared with what the
  edit means on the parsed data. A file laid out in a way this module does not
  follow (a table split in parts, a header inside a multi-line string) is
  refused with :class:`EditError` rather than edited wrongly.

Nothing here validates the config: the caller runs the full validation
(``syndicate.config.parse_config``) on the result before writing it (see
``syndicate.configsave``).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import tomlkit

from syndicate.errors import SyndicateError

#: The arrays of tables the admin area edits, by their header name.
SECTIONS: Final = "sections"
SOURCES: Final = "sidebar.sources"

_HEADER = re.compile(r"[ \t]*\[")
_KEY_LINE = re.compile(r"[ \t]*[^#\s]")
_TRIPLE = re.compile(r'"""|\'\'\'')


class EditError(ValueError, SyndicateError):
    """The edit cannot be made safely (unknown table, or a layout this module does not follow)."""


@dataclass(frozen=True)
class Block:
    """One ``[[array]]`` table in the text: ``text[start:end]`` (ends after its last key line)."""

    start: int
    end: int


def _lines(text: str) -> list[tuple[int, str]]:
    """Each line with its offset, newline kept."""
    out = []
    offset = 0
    for line in text.splitlines(keepends=True):
        out.append((offset, line))
        offset += len(line)
    return out


def _header_name(line: str) -> str | None:
    """``sections`` for ``[[sections]]``, ``site`` for ``[site]``, None for other lines."""
    if not _HEADER.match(line):
        return None
    stripped = line.split("#", 1)[0].strip()
    inner = stripped.strip("[]")
    return re.sub(r"\s*\.\s*", ".", inner.strip()).replace('"', "")


def blocks(text: str, array: str) -> list[Block]:
    """Every ``[[array]]`` block, in file order."""
    found: list[Block] = []
    current: int | None = None
    last_end = 0
    in_string = False
    for offset, line in _lines(text):
        if in_string:
            if len(_TRIPLE.findall(line)) % 2 == 1:
                in_string = False
            if current is not None:
                last_end = offset + len(line)
            continue
        name = _header_name(line)
        if name is not None:
            if current is not None:
                found.append(Block(current, last_end))
                current = None
            if line.lstrip().startswith("[[") and name == array:
                current = offset
                last_end = offset + len(line)
            continue
        if len(_TRIPLE.findall(line)) % 2 == 1:
            in_string = True
        if current is not None and _KEY_LINE.match(line):
            last_end = offset + len(line)
    if current is not None:
        found.append(Block(current, last_end))
    return found


def _load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EditError(f"config.toml is not valid TOML now ({exc}); fix it by hand") from None


def _array(data: Mapping[str, Any], array: str) -> list[dict[str, Any]]:
    node: Any = data
    for part in array.split("."):
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, list) else []


def _set_array(data: dict[str, Any], array: str, items: list[dict[str, Any]]) -> None:
    *parents, last = array.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = items


def _checked(old: str, new: str, array: str, change: Callable[[list[dict[str, Any]]], None]) -> str:
    """``new``, once tomllib reads it as ``old`` with ``change`` applied to ``array``."""
    before = _load(old)
    expected = copy.deepcopy(before)
    items = copy.deepcopy(_array(before, array))
    change(items)
    _set_array(expected, array, items)
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        raise EditError(
            f"config.toml is laid out in a way the admin area cannot edit safely "
            f"around its [[{array}]] tables; edit it by hand"
        )
    return new


def _find(text: str, array: str, index: int) -> Block:
    found = blocks(text, array)
    if not 0 <= index < len(found) or len(found) != len(_array(_load(text), array)):
        raise EditError(f"no [[{array}]] table number {index + 1} that can be edited here")
    return found[index]


def _render(array: str, values: Mapping[str, Any]) -> str:
    lines = [f"[[{array}]]\n"]
    lines += [f"{key} = {tomlkit.item(value).as_string()}\n" for key, value in values.items()]
    return "".join(lines)


# -- the edits --------------------------------------------------------------------


def index_of(text: str, array: str, key: str, value: str) -> int:
    """The position of the table in ``array`` whose ``key`` is ``value``; EditError if none."""
    for i, item in enumerate(_array(_load(text), array)):
        if item.get(key) == value:
            return i
    raise EditError(f"no [[{array}]] table with {key} = {value!r} in config.toml")


def append(text: str, array: str, values: Mapping[str, Any]) -> str:
    """A new ``[[array]]`` table after the last one (at the end of the file if there is none)."""
    found = blocks(text, array)
    new = _render(array, values)
    if found:
        at = found[-1].end
        result = text[:at] + "\n" + new + text[at:]
    else:
        base = text if text.endswith("\n") or not text else text + "\n"
        result = base + ("\n" if base else "") + new
    return _checked(text, result, array, lambda items: items.append(dict(values)))


def remove(text: str, array: str, index: int) -> str:
    """The table at ``index`` removed, with the blank lines that followed it."""
    block = _find(text, array, index)
    end = block.end
    while end < len(text):
        line_end = text.find("\n", end)
        line = text[end : len(text) if line_end < 0 else line_end + 1]
        if line.strip():
            break
        end += len(line)
    result = text[: block.start] + text[end:]

    def drop(items: list[dict[str, Any]]) -> None:
        del items[index]

    return _checked(text, result, array, drop)


def move(text: str, array: str, index: int, to: int) -> str:
    """The table at ``index`` swapped with its neighbour at ``to`` (``index`` ± 1)."""
    if abs(to - index) != 1:
        raise EditError("a table moves one place at a time")
    first, second = sorted((index, to))
    a, b = _find(text, array, first), _find(text, array, second)
    result = (
        text[: a.start]
        + text[b.start : b.end]
        + text[a.end : b.start]
        + text[a.start : a.end]
        + text[b.end :]
    )

    def swap(items: list[dict[str, Any]]) -> None:
        items[first], items[second] = items[second], items[first]

    return _checked(text, result, array, swap)


def update(text: str, array: str, index: int, values: Mapping[str, Any | None]) -> str:
    """Keys of the table at ``index`` set (or, for None, removed); the rest of it untouched."""
    block = _find(text, array, index)
    piece = tomlkit.parse(text[block.start : block.end])
    table: Any = piece
    for part in array.split("."):
        table = table[part]
    table = table[0]
    for key, value in values.items():
        if value is None:
            if key in table:
                del table[key]
        else:
            table[key] = value
    edited = piece.as_string()
    if not edited.endswith("\n"):
        edited += "\n"
    result = text[: block.start] + edited + text[block.end :]

    def change(items: list[dict[str, Any]]) -> None:
        for key, value in values.items():
            if value is None:
                items[index].pop(key, None)
            else:
                items[index][key] = value

    return _checked(text, result, array, change)


__all__ = [
    "SECTIONS",
    "SOURCES",
    "Block",
    "EditError",
    "append",
    "blocks",
    "index_of",
    "move",
    "remove",
    "update",
]
