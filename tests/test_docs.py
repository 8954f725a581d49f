"""The README documents every config key and every command (it is generated, so it cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

from syndicate.cli import main
from syndicate.configdocs import keys_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_config_key():
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- config-keys:start -->\n(.*?)\n<!-- config-keys:end -->", text, re.S)
    assert found, "README lost its config-keys markers"
    assert found.group(1) == keys_markdown(), "README config table is stale: run `make docs`"


def test_readme_documents_every_command():
    text = README.read_text(encoding="utf-8")
    for name in main.commands:
        assert f"`syndicate {name}" in text, f"README does not document `syndicate {name}`"


def test_readme_architecture_names_every_room():
    """The README's map lists every module and package of syndicate/, so it stays true."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"## Architecture\n(.*?)\n## ", text, re.S)
    assert found, "README lost its Architecture section"
    section = found.group(1)
    package = README.parent / "syndicate"
    rooms = [p.name for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")]
    rooms += [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()]
    missing = [room for room in sorted(rooms) if f"`{room}`" not in section]
    assert missing == [], f"README's Architecture section does not place {missing}"
