"""The admin's config.toml edits: only the edited table changes, byte for byte.

Each edit of the project's own commented config.toml is checked against the
original: what lies outside the edited block is compared byte for byte, and
the result is read back with tomllib. Then the atomic save: the fingerprint
check, full validation before writing, and the rename.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from syndicate.config import ConfigError, parse_config
from syndicate.configsave import Conflict, fingerprint_of, prepare, write_atomically
from syndicate.live import fingerprint
from syndicate.tomledit import (
    SECTIONS,
    SOURCES,
    EditError,
    append,
    blocks,
    index_of,
    move,
    remove,
    update,
)

CONFIG = (Path(__file__).parent.parent / "config.toml").read_text(encoding="utf-8")


def block_text(text: str, array: str, index: int) -> str:
    b = blocks(text, array)[index]
    return text[b.start : b.end]


def test_blocks_find_every_table_and_end_at_its_last_key():
    sections = blocks(CONFIG, SECTIONS)
    assert len(sections) == len(tomllib.loads(CONFIG)["sections"])
    first = block_text(CONFIG, SECTIONS, 0)
    assert first.startswith("[[sections]]\n")
    assert first.endswith('streets and the courts"\n')
    last = block_text(CONFIG, SECTIONS, -1)
    assert "# --- The" not in last  # the comment after it heads the sidebar part
    assert len(blocks(CONFIG, SOURCES)) == 4


def test_retitle_changes_only_that_value():
    i = index_of(CONFIG, SECTIONS, "slug", "comment")
    new = update(CONFIG, SECTIONS, i, {"title": "Opinion"})
    b = blocks(CONFIG, SECTIONS)[i]
    assert new[: b.start] == CONFIG[: b.start]
    assert new[b.start :].replace('title = "Opinion"', 'title = "Comment"', 1) == CONFIG[b.start :]
    assert tomllib.loads(new)["sections"][i]["title"] == "Opinion"


def test_a_description_is_added_and_removed_inside_its_block():
    i = index_of(CONFIG, SECTIONS, "slug", "news")
    gone = update(CONFIG, SECTIONS, i, {"description": None})
    assert "description" not in tomllib.loads(gone)["sections"][i]
    back = update(gone, SECTIONS, i, {"description": 'A "quoted" line'})
    assert tomllib.loads(back)["sections"][i]["description"] == 'A "quoted" line'
    b = blocks(CONFIG, SECTIONS)[i]
    assert back[: b.start] == CONFIG[: b.start]  # everything before untouched


def test_add_goes_after_the_last_section_keeping_the_comment_that_follows():
    new = append(CONFIG, SECTIONS, {"slug": "books", "title": "Books"})
    last = blocks(CONFIG, SECTIONS)[-1]
    inserted = '\n[[sections]]\nslug = "books"\ntitle = "Books"\n'
    assert new == CONFIG[: last.end] + inserted + CONFIG[last.end :]
    assert [s["slug"] for s in tomllib.loads(new)["sections"]][-1] == "books"


def test_remove_is_the_exact_inverse_of_add():
    added = append(CONFIG, SECTIONS, {"slug": "books", "title": "Books", "description": "x"})
    assert remove(added, SECTIONS, index_of(added, SECTIONS, "slug", "books")) == CONFIG


def test_removing_the_first_and_the_last_keeps_the_comments_around_them():
    first = remove(CONFIG, SECTIONS, 0)
    assert (
        '# "title" and "description" may change at any time.\n[[sections]]\nslug = "international"'
        in first
    )
    last = remove(CONFIG, SECTIONS, len(blocks(CONFIG, SECTIONS)) - 1)
    assert 'union news"' not in last
    assert 'and the arts"\n\n# --- Digests' in last


def test_move_swaps_two_blocks_and_nothing_else():
    new = move(CONFIG, SECTIONS, 0, 1)
    assert [s["slug"] for s in tomllib.loads(new)["sections"]][:2] == ["international", "news"]
    assert sorted(new.splitlines()) == sorted(CONFIG.splitlines())
    assert move(new, SECTIONS, 1, 0) == CONFIG
    with pytest.raises(EditError):
        move(CONFIG, SECTIONS, 0, 2)
    with pytest.raises(EditError):
        move(CONFIG, SECTIONS, 0, -1)


def test_sources_disable_reenable_and_remove():
    i = index_of(CONFIG, SOURCES, "name", "Campaign Bulletin")
    off = update(CONFIG, SOURCES, i, {"enabled": False})
    assert off.replace("max_items = 2\nenabled = false\n", "max_items = 2\n", 1) == CONFIG
    assert update(off, SOURCES, i, {"enabled": None}) == CONFIG
    removed = remove(CONFIG, SOURCES, i)
    assert "Campaign Bulletin" not in removed
    assert len(tomllib.loads(removed)["sidebar"]["sources"]) == 3


def test_an_inline_comment_and_odd_spacing_survive_an_update():
    text = '[site]\ntitle = "T"\n\n[[sections]]\nslug="a"   # keep me\ntitle =   "A"  # and me\n'
    new = update(text, SECTIONS, 0, {"title": "B"})
    assert (
        new
        == '[site]\ntitle = "T"\n\n[[sections]]\nslug="a"   # keep me\ntitle =   "B"  # and me\n'
    )


def test_first_table_of_its_kind_is_appended_at_the_end():
    text = '[site]\ntitle = "T"  # no sections yet\n'
    new = append(text, SECTIONS, {"slug": "a", "title": "A"})
    assert new == text + '\n[[sections]]\nslug = "a"\ntitle = "A"\n'
    sources = append(text, SOURCES, {"name": "N", "url": "https://e.org/f"})
    assert tomllib.loads(sources)["sidebar"]["sources"] == [{"name": "N", "url": "https://e.org/f"}]


def test_a_layout_it_cannot_follow_is_refused_not_mangled():
    # A header spelled inside a multi-line string is not a table.
    tricky = '[[sections]]\nslug = "a"\ntitle = "A"\ndescription = """\n[[sections]]\n"""\n'
    assert len(blocks(tricky, SECTIONS)) == 1
    with pytest.raises(EditError):
        index_of("not = [valid", SECTIONS, "slug", "a")
    with pytest.raises(EditError):
        index_of(CONFIG, SECTIONS, "slug", "no-such")


def test_values_are_written_as_valid_toml_whatever_they_hold():
    nasty = 'quote " backslash \\ newline \n tab \t and \u202e'
    new = append(CONFIG, SECTIONS, {"slug": "x", "title": nasty})
    assert tomllib.loads(new)["sections"][-1]["title"] == nasty


# -- saving ------------------------------------------------------------------------------


def test_prepare_refuses_a_changed_file_and_an_invalid_result(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    seen = fingerprint(path)
    assert seen == fingerprint_of(CONFIG.encode())
    ready = prepare(path, seen, lambda t: append(t, SECTIONS, {"slug": "books", "title": "Books"}))
    assert ready.config.section("books") is not None
    assert path.read_text(encoding="utf-8") == CONFIG  # prepare writes nothing
    with pytest.raises(ConfigError) as refused:
        prepare(path, seen, lambda t: append(t, SECTIONS, {"slug": "Bad Slug", "title": ""}))
    assert any(p.startswith("sections[6].slug:") for p in refused.value.problems)
    assert any(p.startswith("sections[6].title:") for p in refused.value.problems)
    path.write_text(CONFIG + "\n# a hand edit\n", encoding="utf-8")
    with pytest.raises(Conflict):
        prepare(path, seen, lambda t: t)


def test_write_atomically_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    inode = path.stat().st_ino
    write_atomically(path, CONFIG.encode())
    assert path.read_text(encoding="utf-8") == CONFIG
    assert path.stat().st_ino != inode  # a new file renamed into place, not rewritten
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["config.toml"]  # no temp file left behind
    parse_config(path.read_text(encoding="utf-8"))
