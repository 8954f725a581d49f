"""Text hygiene: the one door for text into XML, surrogates, and slugs."""

from __future__ import annotations

import sys
import unicodedata
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.configrules import SLUG_RE
from syndicate.text import (
    _NO_DECOMPOSITION,
    BIDI_CONTROLS,
    collapse_whitespace,
    encodable,
    slugify,
    strip_bidi_controls,
    xml_safe,
)

#: Every code point, surrogates and noncharacters included.
ANY_CHAR = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.characters(categories=("Cs",)),
    st.characters(categories=("Cc",)),
    st.sampled_from("\t\n\r\x7f\x85\ufdd0\ufffe\uffff\U0001fffe\U0010ffff"),
)


def xml_1_0_char(cp: int) -> bool:
    """The Char production of XML 1.0 (fifth edition), section 2.2."""
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or 0x10000 <= cp <= 0x10FFFF
    )


def dropped_by_design(cp: int) -> bool:
    """Legal in XML 1.0, but xml_safe drops them too: C1 controls, FDD0-FDEF."""
    return 0x7F <= cp <= 0x9F or 0xFDD0 <= cp <= 0xFDEF


# -- xml_safe ------------------------------------------------------------------


def test_xml_safe_keeps_exactly_the_legal_code_points():
    wrong = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        keep = xml_1_0_char(cp) and not dropped_by_design(cp)
        if xml_safe(ch) != (ch if keep else ""):
            wrong.append(f"U+{cp:04X}")
    assert wrong == []


def test_xml_safe_of_every_code_point_at_once():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    expected = "".join(
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if xml_1_0_char(cp) and not dropped_by_design(cp)
    )
    assert xml_safe(everything) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("plain", "plain"),
        ("tab\tnew\nline\rend", "tab\tnew\nline\rend"),
        ("a\x00b\x08c\x0bd\x0ce\x1ff", "abcdef"),
        ("\x7fdel\x85nel\x9fc1", "delnelc1"),
        ("lone \ud800 and \udfff", "lone  and "),
        ("\ufffe\uffff\ufdd0\ufdef", ""),
        ("\ufdcf\ufdf0\ufffd", "\ufdcf\ufdf0\ufffd"),
        ("astral \U0001f600 \U0001fffe \U0010ffff", "astral \U0001f600 \U0001fffe \U0010ffff"),
        ("مرحبا", "مرحبا"),
    ],
)
def test_xml_safe_examples(text, expected):
    assert xml_safe(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR))
def test_xml_safe_output_always_parses_as_xml(text):
    cleaned = xml_safe(text)
    assert xml_safe(cleaned) == cleaned
    # Only deletions: what is left is a subsequence of the input, in order.
    remaining = iter(text)
    assert all(ch in remaining for ch in cleaned)
    element = etree.fromstring(f"<a>{escape(cleaned)}</a>".encode())
    # XML normalises line ends (section 2.11); everything else comes back.
    expected = cleaned.replace("\r\n", "\n").replace("\r", "\n")
    assert (element.text or "") == expected


# -- encodable -----------------------------------------------------------------


def test_encodable_replaces_exactly_the_surrogates():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    result = encodable(everything)
    assert len(result) == len(everything)
    changed = [cp for cp, (a, b) in enumerate(zip(everything, result, strict=True)) if a != b]
    assert changed == list(range(0xD800, 0xE000))
    assert set(result[0xD800:0xE000]) == {"\ufffd"}
    result.encode("utf-8")  # no UnicodeEncodeError


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR))
def test_encodable_always_gives_utf8_encodable_text(text):
    result = encodable(text)
    assert len(result) == len(text)
    assert result.encode("utf-8").decode("utf-8") == result


# -- collapse_whitespace -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("   ", ""),
        ("  Simon \t\n Assaf  ", "Simon Assaf"),
        ("a\u00a0\u2003b", "a b"),
        ("one", "one"),
    ],
)
def test_collapse_whitespace(text, expected):
    assert collapse_whitespace(text) == expected


# -- slugify -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José Martínez", "jose-martinez"),
        ("  José   Martínez  ", "jose-martinez"),
        ("JOSÉ MARTÍNEZ", "jose-martinez"),
        ("Ça va? Très bien!", "ca-va-tres-bien"),
        ("Zoë Brontë-Smith", "zoe-bronte-smith"),
        ("Dvořák", "dvorak"),
        ("Ångström", "angstrom"),
        ("news", "news"),
        ("Strikes & Ballots 2026", "strikes-ballots-2026"),
        ("--already--a--slug--", "already-a-slug"),
        ("ﬁnance", "finance"),  # NFKD folds the ligature
    ],
)
def test_slugify_latin(text, expected):
    assert slugify(text) == expected


def test_slugify_arabic_is_non_empty_ascii_and_stable():
    name = "محمد"
    slug = slugify(name)
    assert slug
    assert slug.isascii()
    assert SLUG_RE.fullmatch(slug)
    assert slugify(name) == slug
    # Slugs end up in feed URLs that readers subscribe to: the spelling is pinned.
    assert slug == "u-645-62d-645-62f"
    # A different name gets a different slug; spaces do not count.
    assert slugify("سلمى حداد") != slug
    assert slugify("سلمى حداد") == slugify("سلمى  حداد")
    assert slugify(slug) == slug


@pytest.mark.parametrize("name", ["王小明", "Ελένη", "Олег Петров", "🎉", "!!!"])
def test_slugify_without_latin_letters_still_gives_a_valid_slug(name):
    slug = slugify(name)
    assert SLUG_RE.fullmatch(slug), slug
    assert slugify(name) == slug


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u00a0\u2003"])
def test_slugify_of_empty_or_whitespace_is_empty(blank):
    assert slugify(blank) == ""


def test_slugify_long_arabic_name_gives_a_valid_slug():
    name = "عبد الرحمن بن محمد بن عبد الله الهاشمي"  # 31 letters: 30 fit in 120 chars
    slug = slugify(name)
    assert SLUG_RE.fullmatch(slug), slug
    assert slugify(slug) == slug
    assert len(slug) <= 120


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(categories=("Lo",), max_codepoint=0x2FFFF), min_size=25))
def test_slugify_long_non_latin_text_gives_a_valid_slug(text):
    slug = slugify(text)
    assert SLUG_RE.fullmatch(slug), slug
    assert slugify(slug) == slug


def non_blank(text: str) -> bool:
    return bool(text.strip())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR, min_size=1, max_size=20).filter(non_blank))
def test_slugify_always_gives_a_valid_idempotent_slug(text):
    slug = slugify(text)
    assert slug.isascii()
    assert SLUG_RE.fullmatch(slug), slug
    assert slugify(slug) == slug
    assert slugify(text) == slug


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="latin-1", categories=("L",)), min_size=1))
def test_slugify_latin1_letters_fold_to_ascii_letters(text):
    slug = slugify(text)
    spelled = text.translate(_NO_DECOMPOSITION)  # ß -> ss, ø -> o: letters NFKD keeps whole
    folded = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    if folded:
        assert slug == folded.lower()


# --- bidi controls (issue 12) -------------------------------------------------------

#: LRE, RLE, PDF, LRO, RLO, then LRI, RLI, FSI, PDI.
OVERRIDES_AND_ISOLATES = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def test_strip_bidi_controls_removes_exactly_embeddings_overrides_and_isolates():
    every = "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)
    kept = strip_bidi_controls(every)
    assert {ord(c) for c in every} - {ord(c) for c in kept} == OVERRIDES_AND_ISOLATES
    for mark in ("\u200e", "\u200f", "\u061c"):  # LRM, RLM, ALM stay
        assert mark in kept


def test_strip_bidi_controls_examples():
    assert strip_bidi_controls("\u202eSalma Haddad\u202c") == "Salma Haddad"
    arabic = "\u0631\u0646\u0627"  # a name in Arabic letters
    assert strip_bidi_controls(f"\u2067{arabic}\u2069 6") == f"{arabic} 6"
    assert strip_bidi_controls("plain") == "plain"


def test_the_fetcher_uses_the_same_rule():
    """One home for the rule: fetch/clean.py takes its table from text.py."""
    from syndicate.fetch import clean

    assert clean._BIDI is BIDI_CONTROLS
    assert clean.clean_title("\u202eevil\u2066 title") == "evil title"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR))
def test_strip_bidi_controls_leaves_none_and_settles(text):
    out = strip_bidi_controls(text)
    assert not any(ord(c) in OVERRIDES_AND_ISOLATES for c in out)
    assert strip_bidi_controls(out) == out
