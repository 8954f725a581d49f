"""Article HTML made safe to show: one allow-list, applied by a maintained sanitiser.

An article body is HTML from the CMS, and syndicate shows it in two places:
the preview page on this site's own origin (where a script could act as a
logged-in editor) and the content of every feed (where readers render it,
and where the W3C Feed Validation Service warns of ``script``, ``style``,
``iframe``, ``object``, ``embed`` and ``on*``/``style`` attributes as
"potentially dangerous content"). :func:`sanitize_html` is the one door both
pass through; the stored body stays exactly as the CMS sent it.

The work is done by nh3, the Python binding to the Rust crate ammonia: it
parses with html5ever (the HTML5 parsing algorithm browsers use, so
``<scr<script>ipt>``, uppercase tags and entity-encoded ``javascript:`` are
seen exactly as a browser would see them), keeps only what is listed below,
and serialises a well-formed fragment. Anything not listed is dropped: the
tag (its text stays) for unknown elements, the element with its content for
:data:`DROP_WITH_CONTENT`, the attribute for unknown attributes.

Pure: no store, no HTTP, no clock. Relative URLs pass through unchanged, to
be made absolute afterwards by :func:`syndicate.formats.urls.absolutize_html`.

Element groups follow the WHATWG HTML Living Standard's chapters:

* 4.3 Sections: ``h1``-``h6``, an article's headings.
* 4.4 Grouping content: paragraphs, rules, pre-formatted text, block quotes,
  lists, figures with captions, ``div``.
* 4.5 Text-level semantics: links, emphasis, code, quotations, abbreviations,
  times, sub/superscripts, ``span``, ``br``.
* 4.8 Embedded content: ``img`` (with ``srcset``/``sizes``), ``picture`` and
  ``source``, ``audio`` and ``video`` (always with controls, never autoplay);
  ``iframe`` only from the hosts an editor lists in ``site.embed_hosts``.
* 4.9 Tabular data: tables with captions, row groups and header cells.

Never allowed, whatever the config: ``script``, ``style``, ``object``,
``embed``, ``form`` and its controls, ``svg``/``math`` (their own scripting
and styling), event handler attributes (``on*``), ``style`` attributes, and
URLs other than http(s), ``mailto:`` (links only) or relative ones. Links
keep no ``target`` (a page opened from an article gets no ``window.opener``
on ours) and only the ``rel`` link types of :data:`LINK_TYPES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final

import nh3

from syndicate.text import encodable, xml_safe

#: WHATWG HTML 4.3 and 4.4: headings and grouping content, an article's structure.
STRUCTURE_TAGS: Final = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "hr", "pre", "blockquote", "div"}
    | {"ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption"}
)
#: WHATWG HTML 4.5, text-level semantics: inline markup with no behaviour of its own.
TEXT_TAGS: Final = frozenset(
    {"a", "br", "strong", "em", "b", "i", "u", "s", "sub", "sup", "small", "mark"}
    | {"abbr", "cite", "q", "code", "kbd", "samp", "var", "time", "span"}
)
#: WHATWG HTML 4.9, tabular data (figures in numbers: budgets, results, polls).
TABLE_TAGS: Final = frozenset({"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"})
#: WHATWG HTML 4.8, embedded content that runs no code: pictures, sound, video.
#: Media elements always get ``controls`` and never ``autoplay``.
MEDIA_TAGS: Final = frozenset({"img", "picture", "source", "audio", "video"})
#: Allowed only when its ``src`` is https on a host of ``site.embed_hosts``.
EMBED_TAG: Final = "iframe"
ALLOWED_TAGS: Final = STRUCTURE_TAGS | TEXT_TAGS | TABLE_TAGS | MEDIA_TAGS

#: Removed together with everything inside them: code, style and text that is
#: not meant to be read as the article (the validator's "potentially dangerous
#: content", and the raw-text elements whose content would show as markup).
DROP_WITH_CONTENT: Final = frozenset(
    {"script", "style", "noscript", "template", "textarea", "select", "title"}
    | {"xmp", "noembed", "noframes", "object", "embed", "applet", "math", "svg"}
)

#: On every element: advisory title, language and direction (quotes in other
#: languages, right-to-left names), and ``id`` so in-page footnote links work.
GLOBAL_ATTRIBUTES: Final = frozenset({"title", "lang", "dir", "id"})
#: Per element. None of these runs code; URL values are checked by :func:`_make_filter`.
ATTRIBUTES: Final[dict[str, frozenset[str]]] = {
    "*": GLOBAL_ATTRIBUTES,
    # No target: every link opens where the reader opens it, so no page we link
    # to gets a handle on ours (window.opener); rel keeps only LINK_TYPES.
    "a": frozenset({"href", "hreflang", "rel"}),
    "img": frozenset({"src", "srcset", "sizes", "alt", "width", "height"}),
    "source": frozenset({"src", "srcset", "sizes", "media", "type"}),
    "video": frozenset({"src", "poster", "width", "height"}),
    "audio": frozenset({"src"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start", "reversed", "type"}),
    "li": frozenset({"value"}),
    "th": frozenset({"colspan", "rowspan", "headers", "abbr"}),
    "td": frozenset({"colspan", "rowspan", "headers"}),
    EMBED_TAG: frozenset({"src", "width", "height", "title", "allowfullscreen"}),
}
#: Attributes kept only with one of these values (enumerated attributes).
ATTRIBUTE_VALUES: Final[dict[str, dict[str, frozenset[str]]]] = {
    "img": {"loading": frozenset({"lazy", "eager"})},
    "th": {"scope": frozenset({"row", "col", "rowgroup", "colgroup"})},
    "video": {"preload": frozenset({"none", "metadata", "auto"})},
    "audio": {"preload": frozenset({"none", "metadata", "auto"})},
    EMBED_TAG: {"loading": frozenset({"lazy", "eager"})},
}
#: Set on every element of the kind: a player a reader can control, never one that plays itself.
FORCED_ATTRIBUTES: Final[dict[str, dict[str, str]]] = {
    "video": {"controls": ""},
    "audio": {"controls": ""},
}
#: Schemes nh3 lets through in ``href`` and ``src``; :func:`_make_filter` narrows
#: ``src``, ``poster``, ``cite`` and ``srcset`` to http(s) and relative URLs.
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
#: The link types (WHATWG HTML 4.6.7) a link's ``rel`` may keep: advice to
#: search engines and readers, none of which changes what a click does.
LINK_TYPES: Final = frozenset(
    {"nofollow", "noopener", "noreferrer", "sponsored", "ugc", "external", "author", "license"}
    | {"tag", "bookmark", "help", "alternate", "next", "prev"}
)

# Browsers drop tab and newline anywhere in a URL and C0 controls or spaces at
# its ends (WHATWG URL, "basic URL parser"), so "java\tscript:" is javascript:.
_URL_INVISIBLE = re.compile("[\t\n\r]")
_URL_ENDS = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# What starts a candidate in srcset: every run of ASCII whitespace and commas.
_SRCSET_SPLIT = re.compile("[\t\n\f\r ,]+")
# An embed: https, a bare host (no user, no port), then a path, query or fragment
# without whitespace or backslashes (which browsers read as "/": a parser differential).
_EMBED_URL = re.compile(r"(?i:https)://([A-Za-z0-9.-]+)(?:[/?#][^\s\\]*)?")
# nh3's serialisation of an iframe: attributes always written as name="value",
# with " escaped, so a value cannot end early; then its raw text, then the end tag.
_IFRAME = re.compile(r'<iframe((?: [^\s"\'>/=]+="[^"]*")*)>.*?</iframe>', re.DOTALL)
_ENUMERATED_DIR: Final = frozenset({"ltr", "rtl", "auto"})


def _web_url(value: str) -> bool:
    """True for a relative URL or an absolute http(s) one, as a browser would read it."""
    found = _SCHEME.match(_URL_INVISIBLE.sub("", value).strip(_URL_ENDS))
    return found is None or found[1].lower() in ("http", "https")


def _embed_allowed(value: str, hosts: frozenset[str]) -> bool:
    found = _EMBED_URL.fullmatch(value)
    return found is not None and found[1].lower() in hosts


def _make_filter(hosts: frozenset[str]) -> Callable[[str, str, str], str | None]:
    """nh3's attribute callback: the URL and value checks nh3 does not make itself."""

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr == "src" or attr == "poster" or attr == "cite":
            if tag == EMBED_TAG:
                return value if _embed_allowed(value, hosts) else None
            return value if _web_url(value) else None
        if attr == "srcset":
            tokens = _SRCSET_SPLIT.split(value)
            return value if all(_web_url(token) for token in tokens if token) else None
        if attr == "dir":
            return value if value.lower() in _ENUMERATED_DIR else None
        if attr == "rel":
            kept = [t for t in value.split() if t.lower() in LINK_TYPES]
            return " ".join(kept) if kept else None
        return value

    return attribute_filter


@lru_cache(maxsize=32)
def _cleaner(hosts: frozenset[str]) -> nh3.Cleaner:
    """One reusable nh3 cleaner per embed allow-list (the config rarely changes)."""
    embeds = bool(hosts)
    tags = ALLOWED_TAGS | {EMBED_TAG} if embeds else ALLOWED_TAGS
    return nh3.Cleaner(
        tags=tags,
        clean_content_tags=DROP_WITH_CONTENT if embeds else DROP_WITH_CONTENT | {EMBED_TAG},
        attributes={tag: names for tag, names in ATTRIBUTES.items() if tag == "*" or tag in tags},
        attribute_filter=_make_filter(hosts),
        strip_comments=True,
        link_rel=None,
        tag_attribute_values={tag: v for tag, v in ATTRIBUTE_VALUES.items() if tag in tags},
        set_tag_attribute_values=FORCED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative="pass_through",
    )


def _settle_iframe(match: re.Match[str]) -> str:
    """An allowed embed without its fallback text; an iframe whose src was refused, gone."""
    attributes = match[1]
    return f"<iframe{attributes}></iframe>" if ' src="' in attributes else ""


def sanitize_html(fragment: str, *, embed_hosts: frozenset[str] = frozenset()) -> str:
    """``fragment`` with only the allowed elements, attributes and URLs left.

    ``embed_hosts`` are exact host names whose https pages may be embedded in
    an ``iframe`` (``site.embed_hosts``); with none, every iframe is dropped
    with its content. Never raises: broken markup is parsed as browsers parse
    it, and the result is a well-formed fragment.
    """
    if not fragment:
        return fragment
    cleaner = _cleaner(embed_hosts)
    # Characters XML 1.0 forbids go first, and again if a character reference
    # brought one back: feeds drop them after sanitising, and dropping U+FFFE
    # from "\ufffejavascript:" (a relative URL to the cleaner and to browsers)
    # would make a script URL the cleaner never saw.
    cleaned = cleaner.clean(xml_safe(encodable(fragment)))
    if (safe := xml_safe(cleaned)) != cleaned:
        cleaned = cleaner.clean(safe)
    if embed_hosts and "<iframe" in cleaned:
        # An iframe's text is raw (fallback for browsers without frames) and a
        # refused src leaves an empty frame: drop both. The result goes through
        # the cleaner once more, so even a mistake here could not let markup in.
        cleaned = cleaner.clean(_IFRAME.sub(_settle_iframe, cleaned))
    return cleaned


__all__ = [
    "ALLOWED_TAGS",
    "ATTRIBUTES",
    "DROP_WITH_CONTENT",
    "EMBED_TAG",
    "LINK_TYPES",
    "URL_SCHEMES",
    "sanitize_html",
]
