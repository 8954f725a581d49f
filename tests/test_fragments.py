"""Kept entries: a feed spliced from them is byte for byte the one feedgen builds whole."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.formats import atom, rss
from syndicate.formats.fragments import FRAGMENTS, Fragments
from syndicate.formats.render import forget, render
from syndicate.formats.spec import FeedSpec
from syndicate.formats.view import prepare
from syndicate.models import Article
from tests.factories import make_article, make_spec
from tests.test_build_properties import articles, specs

FORMATS: dict[str, ModuleType] = {"atom": atom, "rss": rss}


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    forget()
    yield
    forget()


def whole(fmt: str, spec: FeedSpec, items: list[Article], *, enclosures: bool = True) -> bytes:
    """The document as feedgen builds it in one go, with no entry kept."""
    module = FORMATS[fmt]
    view = prepare(spec, items, enclosures=enclosures)
    fg = module.head(view)
    for entry in view.entries:
        fg.add_entry(module.entry_of(entry), order="append")
    data: bytes = module.serialise(fg)
    return data


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=specs(), items=st.lists(articles(), max_size=4), enclosures=st.booleans())
def test_a_spliced_feed_is_the_whole_feedgen_document(
    spec: FeedSpec, items: list[Article], enclosures: bool
):
    for fmt in FORMATS:
        reference = whole(fmt, spec, items, enclosures=enclosures)
        built = render(fmt, spec, items, enclosures=enclosures)  # makes and keeps entries
        assert built == reference
        again = render(fmt, spec, items, enclosures=enclosures)  # from kept entries
        assert again == reference


def test_the_splice_is_used_not_the_whole_build(monkeypatch: pytest.MonkeyPatch):
    """If the layouts stopped fitting, every build would quietly take the slow path."""
    spec = make_spec()
    items = [make_article(i) for i in range(1, 6)]
    for fmt, module in FORMATS.items():

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("the whole-document fallback ran")

        with monkeypatch.context() as patch:
            patch.setattr(module.FeedGenerator, "add_entry", refuse)
            render(fmt, spec, items)
            render(fmt, spec, items)
    assert len(FRAGMENTS) == 2 * len(items)


def test_an_article_that_changes_gets_a_new_entry_and_the_rest_are_reused():
    spec = make_spec()
    items = [make_article(i) for i in range(1, 11)]
    render("atom", spec, items)
    assert len(FRAGMENTS) == 10
    edited = dataclasses.replace(
        items[3], title="A corrected headline", updated=items[3].updated + timedelta(hours=1)
    )
    changed = [*items[:3], edited, *items[4:]]
    data = render("atom", spec, changed)
    assert len(FRAGMENTS) == 11  # one new entry, nine reused
    assert b"A corrected headline" in data
    assert data == whole("atom", spec, changed)


def test_a_layout_that_does_not_fit_falls_back_to_feedgen(monkeypatch: pytest.MonkeyPatch):
    spec = make_spec()
    items = [make_article(i) for i in range(1, 4)]
    reference = whole("rss", spec, items)
    forget()
    wrong = dataclasses.replace(rss.LAYOUT, opening=b"  <item>")
    monkeypatch.setattr(rss, "LAYOUT", wrong)
    assert render("rss", spec, items) == reference
    assert len(FRAGMENTS) == 0


def test_kept_entries_are_bounded():
    kept = Fragments(max_entries=5)
    spec = make_spec()
    view = prepare(spec, [make_article(i) for i in range(1, 9)])
    made = kept.entries(atom.LAYOUT, view.entries, atom.entry_of, atom.FeedEntry.atom_entry)
    assert made is not None
    assert len(made) == 8
    assert len(kept) == 5
