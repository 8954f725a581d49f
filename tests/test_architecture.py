"""The layer rules of README "Architecture", checked on every module's imports.

Each rule is a pure function of (module, what it imports), so the tests below
also show each rule failing on a fabricated violation: a rule that could not
fail would prove nothing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

import syndicate

PACKAGE = Path(syndicate.__file__).parent

# -- the rooms and what each may import -------------------------------------------

#: Each room of the package, by module prefix (longest prefix wins).
ROOMS: dict[str, str] = {
    "syndicate.store": "store",
    "syndicate.formats": "formats",
    "syndicate.fetch": "fetch",
    "syndicate.documents": "documents",
    "syndicate.demo": "demo",
    "syndicate.websub": "websub",
    "syndicate.export": "export",
    "syndicate.web": "web",
    "syndicate.cli": "cli",
    "syndicate.__main__": "cli",
    "syndicate": "base",
}
#: The rooms each room may import from: downward only.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "base": frozenset({"base"}),
    "store": frozenset({"base", "store"}),
    "formats": frozenset({"base", "formats"}),
    "fetch": frozenset({"base", "store", "fetch"}),
    "documents": frozenset({"base", "store", "formats", "documents"}),
    "demo": frozenset({"base", "store", "demo"}),
    "websub": frozenset({"base", "store", "fetch", "documents", "websub"}),
    "export": frozenset({"base", "store", "formats", "documents", "export"}),
    "web": frozenset({"base", "store", "formats", "fetch", "documents", "websub", "web"}),
    "cli": frozenset(
        {"base", "store", "formats", "fetch", "documents", "demo", "websub", "export", "web", "cli"}
    ),
}
#: Third-party modules only some rooms may touch.
ONLY_IN: dict[str, frozenset[str]] = {
    # The server side of HTTP is web's; the fetcher is an HTTP client.
    "aiohttp": frozenset({"web", "fetch", "websub"}),
    # SQL lives in the store and nowhere else.
    "sqlite3": frozenset({"store"}),
    "sqlite_utils": frozenset({"store"}),
}


def room(module: str) -> str:
    for prefix in sorted(ROOMS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return ROOMS[prefix]
    raise ValueError(f"{module} is in no room")


def violations(module: str, imported: Iterable[str]) -> list[str]:
    """Every import of ``module`` that breaks a layer rule, as a sentence."""
    own = room(module)
    found: list[str] = []
    for name in sorted(set(imported)):
        top = name.split(".")[0]
        if top == "syndicate":
            other = room(name)
            if other not in MAY_IMPORT[own]:
                found.append(f"{module} ({own}) imports {name} ({other})")
        elif top in ONLY_IN and own not in ONLY_IN[top]:
            found.append(f"{module} ({own}) imports {name}, allowed only in {sorted(ONLY_IN[top])}")
    return found


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str | None = None) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too).

    ``module`` is the file's dotted name (by default, from where it lies in
    the package), against which relative imports are resolved.
    """
    names: set[str] = set()
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_every_module_imports_downward_only(path: Path):
    assert violations(module_name(path), imports(path)) == []


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("syndicate.store.sources", ["syndicate.fetch.types"]),  # store reaching up to fetch
        ("syndicate.store.core", ["syndicate.web.keys"]),
        ("syndicate.fetch.background", ["syndicate.web.keys"]),  # fetch reaching up to web
        ("syndicate.fetch.runner", ["syndicate.documents.cache"]),
        ("syndicate.documents.feeds", ["aiohttp"]),  # the documents layer serving HTTP
        ("syndicate.documents.cache", ["aiohttp.web"]),
        ("syndicate.formats.atom", ["aiohttp"]),  # a builder serving HTTP
        ("syndicate.formats.rss", ["syndicate.store"]),  # a builder querying the store
        ("syndicate.web.health", ["sqlite3"]),  # SQL outside the store
        ("syndicate.demo.plan", ["sqlite3"]),
        ("syndicate.catalog", ["syndicate.documents.rendered"]),  # the base reaching up
        ("syndicate.models", ["syndicate.store.core"]),
        ("syndicate.web.app", ["syndicate.cli"]),
        ("syndicate.websub.deliver", ["syndicate.web.keys"]),  # the hub's engine reaching up
        ("syndicate.store.websub", ["syndicate.websub.rules"]),
        ("syndicate.documents.changes", ["syndicate.websub.deliver"]),
        ("syndicate.websub.verify", ["sqlite3"]),
        ("syndicate.export.run", ["aiohttp.web"]),  # the export serving HTTP
        ("syndicate.export.files", ["syndicate.web.respond"]),
        ("syndicate.documents.changes", ["syndicate.export.run"]),  # a lower room reaching up
        ("syndicate.web.feeds", ["syndicate.export.files"]),
    ],
)
def test_the_rules_catch_a_violation(module: str, imported: list[str]):
    assert violations(module, imported), f"{module} importing {imported} went unnoticed"


def test_the_rules_allow_what_the_layers_are_for():
    assert violations("syndicate.web.app", ["syndicate.documents.cache", "aiohttp"]) == []
    assert violations("syndicate.fetch.retrieve", ["aiohttp", "syndicate.store"]) == []
    assert violations("syndicate.documents.feeds", ["syndicate.formats.render"]) == []
    assert violations("syndicate.store.core", ["sqlite3", "syndicate.models"]) == []
    assert violations("syndicate.websub.deliver", ["aiohttp", "syndicate.documents.cache"]) == []
    assert violations("syndicate.web.websub", ["syndicate.websub.verify"]) == []


def test_relative_imports_are_resolved(tmp_path: Path):
    """A relative import reaching up a layer is caught like an absolute one."""
    path = tmp_path / "sneaky.py"
    path.write_text(
        "import sqlite3\n"
        "from ..web import keys\n"
        "from . import core\n"
        "def later():\n"
        "    from ..fetch.types import FetchError\n",
        encoding="utf-8",
    )
    names = imports(path, "syndicate.store.sneaky")
    assert {"sqlite3", "syndicate.web", "syndicate.store", "syndicate.fetch.types"} <= names
    assert violations("syndicate.store.sneaky", names) == [
        "syndicate.store.sneaky (store) imports syndicate.fetch.types (fetch)",
        "syndicate.store.sneaky (store) imports syndicate.web (web)",
    ]


# -- the pure modules --------------------------------------------------------------

PURE = [
    *sorted((PACKAGE / "formats").glob("*.py")),
    PACKAGE / "catalog.py",
    PACKAGE / "models.py",
    PACKAGE / "records.py",
    PACKAGE / "text.py",
    PACKAGE / "config.py",
    PACKAGE / "configrules.py",
    PACKAGE / "humanize.py",
    PACKAGE / "httpdate.py",
    PACKAGE / "fetch" / "parse.py",
    PACKAGE / "fetch" / "decode.py",
    PACKAGE / "fetch" / "repair.py",
    PACKAGE / "fetch" / "identity.py",
    PACKAGE / "fetch" / "xmlfeed.py",
    PACKAGE / "fetch" / "jsonfeed.py",
    PACKAGE / "fetch" / "headers.py",
    PACKAGE / "fetch" / "clean.py",
    PACKAGE / "fetch" / "schedule.py",
    PACKAGE / "fetch" / "types.py",
    PACKAGE / "web" / "auth.py",
    PACKAGE / "passwords.py",
    PACKAGE / "web" / "openapi.py",
    PACKAGE / "tomledit.py",
    PACKAGE / "subscribers.py",
    PACKAGE / "websub" / "rules.py",
]
FORBIDDEN = ("aiohttp", "sqlite3", "sqlite_utils", "syndicate.store", "syndicate.web", "time")


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_pure_module_imports_no_io(path: Path):
    bad = {
        name
        for name in imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


# -- one clock ----------------------------------------------------------------------

#: Direct readings of the machine's clocks; business time comes from syndicate.clock.
CLOCK_READS = re.compile(
    r"datetime\.now\(|\.utcnow\(|date\.today\(|\btime\.time\(\)|\btime\.monotonic\(\)"
)
#: Readings that are not business time, each with its reason.
CLOCK_ALLOWED = {
    # the clock itself
    "syndicate/clock.py",
    # a lock-wait deadline while switching a new store to WAL, before any app exists
    "syndicate/store/core.py",
}


def clock_reads(text: str) -> list[str]:
    return CLOCK_READS.findall(text)


def test_the_clock_rule_catches_every_spelling():
    for line in (
        "now = datetime.now(UTC)",
        "stamp = time.time()",
        "t0 = time.monotonic()",
        "d = date.today()",
        "n = datetime.utcnow()",
    ):
        assert clock_reads(line), line
    assert not clock_reads("now = self.clock.now()")


def test_business_time_comes_from_the_one_clock():
    readers = {
        str(path.relative_to(PACKAGE.parent)): clock_reads(path.read_text(encoding="utf-8"))
        for path in MODULES
    }
    offenders = {p: found for p, found in readers.items() if found and p not in CLOCK_ALLOWED}
    assert offenders == {}


def test_builders_never_read_the_clock():
    for path in sorted((PACKAGE / "formats").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "datetime.now" not in text, path.name
        assert "utcnow" not in text, path.name
        assert "date.today" not in text, path.name
        assert "syndicate.clock" not in text, path.name


# -- one home per rule --------------------------------------------------------------

#: Code that may be written in one module only, and that module.
ONE_HOME = {
    "parsedate_to_datetime": "syndicate/httpdate.py",  # reading HTTP dates
    "format_datetime(": "syndicate/httpdate.py",  # writing them
    '"opml", version=': "syndicate/opml.py",  # writing OPML
    ".article_path": "syndicate/catalog.py",  # spelling a permalink (formats' spec copies it)
}
#: Modules that may name the thing without doing it again.
ONE_HOME_ALSO = {
    # the spec carries the template to the pure builders; the demo's loop keeps a local copy
    ".article_path": {
        "syndicate/documents/feeds.py",
        "syndicate/formats/spec.py",
        "syndicate/formats/view.py",
        "syndicate/demo/rows.py",
    },
}


@pytest.mark.parametrize("needle", sorted(ONE_HOME))
def test_each_rule_has_one_home(needle: str):
    homes = {
        str(path.relative_to(PACKAGE.parent))
        for path in MODULES
        if needle in path.read_text(encoding="utf-8")
    }
    allowed = {ONE_HOME[needle]} | ONE_HOME_ALSO.get(needle, set())
    assert homes <= allowed, f"{needle!r} is also written in {sorted(homes - allowed)}"


# -- small modules --------------------------------------------------------------------

#: "No module over about 600 lines": each module owns one idea.
MAX_LINES = 650


def test_no_module_holds_several_ideas_by_size():
    big = {
        module_name(path): n
        for path in MODULES
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}
