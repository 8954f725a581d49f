"""The README's table of config keys, made from the config's own dataclasses.

Every key's one-line doc lives beside its rule in syndicate.config; this
module walks those dataclasses so the README (``make docs``) and its test
(tests/test_docs.py) can never drift from what the parser accepts.
"""

from __future__ import annotations

import json
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, get_args, get_origin

from syndicate.config import Config


def documented_keys(cls: type[Any] = Config, prefix: str = "") -> list[tuple[str, str]]:
    """Every config key with its one-line doc, for the README and its test."""
    out: list[tuple[str, str]] = []
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        key = f"{prefix}{f.name}"
        tp = hints[f.name]
        inner = get_args(tp)[0] if get_origin(tp) is tuple else tp
        if isinstance(inner, type) and hasattr(inner, "__dataclass_fields__"):
            out += documented_keys(inner, f"{key}.")
        else:
            out.append((key, f.metadata.get("doc", "")))
    return out


def keys_markdown() -> str:
    """The README's table of config keys, generated so it cannot drift."""
    defaults = _defaults()
    lines = ["| key | default | what |", "|---|---|---|"]
    for key, doc in documented_keys():
        default = defaults.get(key, "required")
        lines.append(f"| `{key}` | {default} | {doc} |")
    return "\n".join(lines)


def _defaults(cls: type[Any] = Config, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        key = f"{prefix}{f.name}"
        tp = hints[f.name]
        inner = get_args(tp)[0] if get_origin(tp) is tuple else tp
        if isinstance(inner, type) and hasattr(inner, "__dataclass_fields__"):
            out.update(_defaults(inner, f"{key}."))
        elif f.default is not MISSING:
            value = f.default
            if isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, str | Path):
                text = json.dumps(str(value), ensure_ascii=False)
            elif isinstance(value, tuple):
                text = json.dumps(list(value), ensure_ascii=False)
            else:
                text = str(value)
            out[key] = f"`{text}`"
    return out
