"""Relative URLs made absolute, in single references and in HTML fragments;
every URL a feed carries made a valid URI.

Many feed readers ignore ``xml:base`` and show an entry away from its page,
so every relative ``href``, ``src`` and ``srcset`` in a body is resolved
before it goes out; the article preview page does the same. Pure functions,
no tree parsing, never raising on broken markup.

Specifications followed:

* RFC 3986 section 5 for resolving relative references (``urljoin``, with
  fast paths that give the same results for the common shapes).
* RFC 3986 sections 2 and 3 (and its Appendix A grammar) for :func:`to_uri`,
  which every URL a builder writes into an attribute or element passes
  through: a PDF URL with a space is written ``%20``, not raw (the W3C feed
  validator's "InvalidUriChar"). RSS 2.0 wants URIs; Atom (RFC 4287) allows
  IRIs (RFC 3987), but the same URI is written in every format, with
  non-ASCII text as UTF-8 percent-encoded octets (RFC 3987 section 3.1) and
  a non-ASCII host name in its IDNA (punycode) form.
* WHATWG HTML, "Tokenization" (attribute syntax) and the ``srcset`` parsing
  algorithm, followed closely enough that :func:`absolutize_html` finds the
  URL attributes browsers would, and never raises on broken markup.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable
from typing import Final
from urllib.parse import urljoin, urlsplit

from syndicate.text import xml_safe

# --- valid URIs (RFC 3986) -----------------------------------------------------

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SUB_DELIMS = "!$&'()*+,;="
# pchar = unreserved / pct-encoded / sub-delims / ":" / "@"  (section 3.3)
_PCHAR = _UNRESERVED + _SUB_DELIMS + ":@"
# What each part may hold as it is; anything else (and a "%" that does not
# start an escape) is percent-encoded. The query and fragment also take "/"
# and "?" (section 3.4, 3.5); the path "/" (3.3); user information ":" (3.2.1);
# a registered host name neither ":" nor "@" (3.2.2).
_PATH_SAFE = _PCHAR + "/"
_QUERY_SAFE = _PCHAR + "/?"
_USERINFO_SAFE = _UNRESERVED + _SUB_DELIMS + ":"
_HOST_SAFE = _UNRESERVED + _SUB_DELIMS


def _escaper(safe: str) -> Callable[[str], str]:
    """A function percent-encoding every character outside ``safe`` (as UTF-8 octets).

    A ``%`` followed by two hex digits is an escape already and is kept as
    written, so a URI that is valid already comes back unchanged and
    encoding twice changes nothing.
    """
    unsafe = re.compile(f"%[0-9A-Fa-f]{{2}}|[^{re.escape(safe)}]")

    def encode(match: re.Match[str]) -> str:
        found = match[0]
        if len(found) == 3:
            return found
        return "".join(f"%{b:02X}" for b in found.encode("utf-8", "surrogatepass"))

    return lambda text: unsafe.sub(encode, text)


_ESCAPE_PATH = _escaper(_PATH_SAFE)
_ESCAPE_QUERY = _escaper(_QUERY_SAFE)
_ESCAPE_USERINFO = _escaper(_USERINFO_SAFE)
_ESCAPE_HOST = _escaper(_HOST_SAFE)
# The shape of nearly every URL a feed carries (scheme://host[:port]/path?query#fragment)
# with every character allowed where it stands: returned at once.
_PCT = "%[0-9A-Fa-f]{2}"
_PLAIN_URI = re.compile(
    f"[A-Za-z][A-Za-z0-9+.\\-]*://(?:[{re.escape(_HOST_SAFE)}]|{_PCT})*(?::[0-9]*)?"
    f"(?:/(?:[{re.escape(_PATH_SAFE)}]|{_PCT})*)?"
    f"(?:\\?(?:[{re.escape(_QUERY_SAFE)}]|{_PCT})*)?"
    f"(?:#(?:[{re.escape(_QUERY_SAFE)}]|{_PCT})*)?"
)
# RFC 3986 Appendix B: the parts of any URI reference, without judging them.
_PARTS = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_PORT = re.compile(r"[0-9]*")
_IP_LITERAL = re.compile(r"\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[A-Za-z0-9._~!$&'()*+,;=:-]+)\]")


def _host(host: str) -> str:
    """A host as RFC 3986 section 3.2.2 spells it; a non-ASCII name in IDNA form."""
    if _IP_LITERAL.fullmatch(host):
        return host  # an IPv6 or IPvFuture literal: its own syntax, kept
    if not host.isascii():
        try:
            name = host.encode("idna").decode("ascii")
        except UnicodeError:
            name = ""  # not a name IDNA takes: percent-encoded UTF-8 is valid too
        if name and _ESCAPE_HOST(name) == name:
            return name
    return _ESCAPE_HOST(host)


def _authority(authority: str) -> str:
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport, "", ""
    if not hostport.endswith("]"):
        head, sep, tail = hostport.rpartition(":")
        if sep and _PORT.fullmatch(tail):
            host, colon, port = head, sep, tail
    return (_ESCAPE_USERINFO(userinfo) + at if at else "") + _host(host) + colon + port


def to_uri(url: str) -> str:
    """``url`` as a valid RFC 3986 URI reference, changing nothing that already was one.

    Characters a URI may not hold (spaces, ``"<>\\^`{|}``, a second ``#``,
    brackets outside an IPv6 host, non-ASCII text) are percent-encoded as
    UTF-8 octets; existing ``%XX`` escapes are kept, a stray ``%`` becomes
    ``%25``; a non-ASCII host name is written in IDNA (punycode). Nothing is
    decoded or normalised, so a URL that was valid comes back byte for byte
    and the function is idempotent. Used for every URL the builders write
    (links, enclosures, images, icons, author pages, category schemes), never
    for article bodies, which are HTML and resolved by :func:`absolutize_html`.
    """
    if _PLAIN_URI.fullmatch(url):
        return url
    match = _PARTS.fullmatch(url)
    if match is None:  # pragma: no cover - the pattern matches every string
        return _ESCAPE_QUERY(url)
    scheme, authority, path, query, fragment = match.groups()
    if scheme is not None and not _SCHEME.fullmatch(scheme):
        # Not a scheme after all ("a b:c"): the whole reference is a path.
        path = f"{scheme}:" + (f"//{authority}" if authority is not None else "") + path
        scheme = authority = None
    if scheme is None and authority is None:
        # A colon in the first segment of a relative path would read as a
        # scheme (section 4.2), so there it is encoded.
        first, slash, rest = path.partition("/")
        path = first.replace(":", "%3A") + slash + rest
    out: list[str] = [f"{scheme}:"] if scheme is not None else []
    if authority is not None:
        out.append("//" + _authority(authority))
    out.append(_ESCAPE_PATH(path))
    if query is not None:
        out.append("?" + _ESCAPE_QUERY(query))
    if fragment is not None:
        out.append("#" + _ESCAPE_QUERY(fragment))
    return "".join(out)


# ASCII whitespace, the only whitespace HTML and URLs trim or split on.
_WS = "\t\n\f\r "
# A URL that names its own scheme (http:, mailto:, data:, javascript:...) is
# never touched: it is absolute already, or not ours to rewrite.
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class _Resolver:
    """Resolves URL references against one base (RFC 3986 section 5.2).

    ``urljoin`` is correct but slow (several microseconds a call), and a feed
    resolves every link of every body. The shapes that make up nearly all of
    them, root-relative paths (``/media/x.jpg``), in-page fragments
    (``#note-1``) and plain relative paths (``photo.jpg``, ``notes/1``), are
    resolved by concatenation when they hold no dot segments, which is
    exactly what section 5.2's algorithm gives for them. Everything else
    (``../x``, ``?page=2``, odd bases) goes to ``urljoin``.
    """

    __slots__ = ("_base", "_directory", "_origin", "_page", "_scheme")

    def __init__(self, base: str, scheme: str) -> None:
        self._base = base
        self._scheme = scheme
        self._origin: str | None = None
        self._page: str | None = None
        self._directory: str | None = None
        try:
            parts = urlsplit(base)
        except ValueError:
            return
        if parts.scheme and parts.netloc:
            self._origin = f"{parts.scheme}://{parts.netloc}"
            self._page = base.split("#", 1)[0]
            path = parts.path or "/"
            self._directory = self._origin + path[: path.rfind("/") + 1]

    def __call__(self, url: str) -> str:
        ref = url.strip(_WS)
        if not ref or _HAS_SCHEME.match(ref):
            return url
        if ref.startswith("//"):
            return f"{self._scheme}:{ref}"
        if self._origin is not None:
            if ref[0] == "#":
                return f"{self._page}{ref}"
            path = ref.split("?", 1)[0].split("#", 1)[0]
            if ref[0] not in "?." and "/." not in path and "\\" not in path:
                return (self._origin if ref[0] == "/" else f"{self._directory}") + ref
        try:
            return urljoin(self._base, ref)
        except ValueError:
            return url


def absolute_url(url: str, base: str, scheme: str = "https") -> str:
    """Resolve one URL reference against ``base`` (RFC 3986 section 5).

    Already-absolute URLs and any other scheme (mailto:, data:, javascript:)
    come back unchanged; ``//host/path`` gets ``scheme`` so that readers which
    show the entry outside a web page can still follow it. Empty references
    and references ``urljoin`` cannot parse come back unchanged too: a feed
    with one odd link is better than no feed.
    """
    return _Resolver(base, scheme)(url)


# HTML tokenizer pieces (WHATWG HTML 13.2.5): only ASCII whitespace separates
# attributes, an attribute name runs up to whitespace, "/", ">" or "=", and an
# unquoted value up to whitespace or ">". An unterminated quoted value runs to
# the end of the text, as in a browser.
def _attribute_pattern(named: bool) -> str:
    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    return (
        group("lead", f"[{_WS}/]*+")
        + group("name", f"[^{_WS}/>][^{_WS}/>=]*+")
        + "(?:"
        + group("eq", f"[{_WS}]*+=[{_WS}]*+")
        + group("value", f"\"[^\"]*+\"?|'[^']*+'?|[^{_WS}>]*+")
        + ")?"
    )


_ATTRIBUTE = re.compile(_attribute_pattern(named=True))
_TAG_ATTRIBUTES = f"(?:{_attribute_pattern(named=False)})*+[{_WS}/]*+>?"
# Text elements whose content is not markup: a "<img src>" inside a script or
# a textarea is text, and is left alone.
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes|plaintext"
# One "<" per alternative would make the engine try five alternatives at every
# character of text; factoring it out (and keeping IGNORECASE to the element
# names) makes the scan several times faster.
_MARKUP = re.compile(
    "<(?:"
    "(?P<comment>!--(?:-?>|.*?(?:--!?>|\\Z)))"
    "|(?P<bogus>(?:[!?]|/(?![A-Za-z]))[^>]*+>?)"
    f"|(?P<end>/[A-Za-z][^{_WS}/>]*+{_TAG_ATTRIBUTES})"
    f"|(?P<raw>(?i:{_RAW_TEXT}))(?=[{_WS}/>]|\\Z)(?P<rawattrs>{_TAG_ATTRIBUTES})"
    f"(?P<rawtext>.*?)(?=(?i:</(?P=raw))(?:[{_WS}/>]|\\Z)|\\Z)"
    f"|(?P<tag>[A-Za-z][^{_WS}/>]*+)(?P<attrs>{_TAG_ATTRIBUTES})"
    ")",
    re.DOTALL,
)
# Characters that would end or break an unquoted attribute value.
_UNQUOTED_UNSAFE = re.compile(f"[{_WS}\"'=<>`]")
#: Attributes whose value is one URL.
_URL_ATTRIBUTES: Final = frozenset({"href", "src", "poster", "cite", "xlink:href"})
# Cheap pre-check: a body with none of these has nothing to rewrite.
_MAY_HAVE_URL = re.compile(r"href|src|poster|cite", re.IGNORECASE)


def _reference_unsafe(value: str) -> str:
    """Write characters :func:`xml_safe` would drop as HTML character references.

    An attribute value is unescaped before it is resolved, so ``&#12;`` comes
    out as a raw form feed, which XML 1.0 forbids; written back as ``&#12;``
    it means the same to the HTML reader and is plain text to the XML one.
    """
    if xml_safe(value) == value:
        return value
    return "".join(c if xml_safe(c) else f"&#{ord(c)};" for c in value)


def _resolve_srcset(value: str, resolve: Callable[[str], str]) -> str:
    """Resolve every URL of a ``srcset`` and keep everything else as written.

    Follows the shape of the HTML "parse a srcset attribute" algorithm:
    candidates are separated by commas, a URL runs to the next whitespace
    (trailing commas end it), and descriptors run to the next comma that is
    not inside parentheses.
    """
    out: list[str] = []
    pos, end = 0, len(value)
    while pos < end:
        start = pos
        while pos < end and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        out.append(value[start:pos])
        if pos >= end:
            break
        start = pos
        while pos < end and value[pos] not in _WS:
            pos += 1
        url = value[start:pos]
        bare = url.rstrip(",")
        out.append(resolve(bare) + url[len(bare) :])
        if bare != url:
            continue
        start, depth = pos, 0
        while pos < end and not (value[pos] == "," and depth == 0):
            if value[pos] == "(":
                depth += 1
            elif value[pos] == ")":
                depth = max(0, depth - 1)
            pos += 1
        out.append(value[start:pos])
    return "".join(out)


def absolutize_html(fragment: str, base: str, scheme: str = "https") -> str:
    """Make every relative ``href``, ``src``, ``srcset``, ``poster`` and ``cite`` absolute.

    Many feed readers ignore ``xml:base`` and show an article away from its
    page, where ``<img src="/media/x.jpg">`` is a broken image; so the URLs are
    resolved against the article's permalink before the body goes out.

    Only those attribute values change. The fragment is not parsed into a tree
    and written back (which would re-indent, re-quote and "fix" markup the
    editors wrote on purpose); a tokenizer modelled on HTML's finds the tags,
    skips comments and the text of script/style/textarea, and rewrites values
    in place. Broken HTML (unclosed tags, stray quotes, unterminated comments)
    never raises: at worst a URL inside the broken part is left as it was.
    """
    if not _MAY_HAVE_URL.search(fragment):
        return fragment

    resolve = _Resolver(base, scheme)

    def rewrite_attribute(match: re.Match[str]) -> str:
        raw = match["value"]
        name = match["name"].lower()
        if raw is None or (name not in _URL_ATTRIBUTES and name != "srcset"):
            return match[0]
        quote_char = raw[0] if raw[:1] in ("'", '"') else ""
        closed = bool(quote_char) and len(raw) > 1 and raw.endswith(quote_char)
        inner = raw[1 : len(raw) - closed] if quote_char else raw
        value = html.unescape(inner)
        new = _resolve_srcset(value, resolve) if name == "srcset" else resolve(value)
        # No URI holds "<" or ">" (RFC 3986 section 2), and browsers encode them when
        # following a link; written raw, "<script>" in an attribute value reads as
        # markup to a reader that looks for tags with a pattern rather than a parser.
        new = new.replace("<", "%3C").replace(">", "%3E")
        if new == value:
            return match[0]
        escaped = _reference_unsafe(new.replace("&", "&amp;"))
        if not quote_char and _UNQUOTED_UNSAFE.search(escaped):
            quote_char, closed = '"', True
        if quote_char:
            escaped = escaped.replace(quote_char, "&quot;" if quote_char == '"' else "&#39;")
            escaped = quote_char + escaped + (quote_char if closed else "")
        return f"{match['lead']}{match['name']}{match['eq']}{escaped}"

    def rewrite_tag(match: re.Match[str]) -> str:
        if match["tag"] is not None:
            attrs = match["attrs"]
            if not _MAY_HAVE_URL.search(attrs):
                return match[0]
            return f"<{match['tag']}{_ATTRIBUTE.sub(rewrite_attribute, attrs)}"
        if match["raw"] is not None:
            attrs = _ATTRIBUTE.sub(rewrite_attribute, match["rawattrs"])
            return f"<{match['raw']}{attrs}{match['rawtext']}"
        return match[0]

    return _MARKUP.sub(rewrite_tag, fragment)
