"""The pure modules stay pure: no HTTP, no SQLite, no store (DESIGN.md's boundary)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import syndicate

PACKAGE = Path(syndicate.__file__).parent
PURE = [
    *sorted((PACKAGE / "build").glob("*.py")),
    PACKAGE / "models.py",
    PACKAGE / "records.py",
    PACKAGE / "text.py",
    PACKAGE / "config.py",
    PACKAGE / "humanize.py",
    PACKAGE / "fetch" / "parse.py",
    PACKAGE / "fetch" / "clean.py",
    PACKAGE / "fetch" / "schedule.py",
    PACKAGE / "fetch" / "types.py",
    PACKAGE / "web" / "auth.py",
    PACKAGE / "passwords.py",
    PACKAGE / "web" / "openapi.py",
]
FORBIDDEN = ("aiohttp", "sqlite3", "sqlite_utils", "syndicate.store", "syndicate.web", "time")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_pure_module_imports_no_io(path: Path):
    bad = {
        name
        for name in imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_builders_never_read_the_clock():
    for path in sorted((PACKAGE / "build").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "datetime.now" not in text, path.name
        assert "utcnow" not in text, path.name
        assert "date.today" not in text, path.name
