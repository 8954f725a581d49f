"""Serve only what parses: every newly built document is read back strictly first.

A builder bug, a feedgen or lxml release that serialises differently, or text
that slipped past :func:`syndicate.text.xml_safe` would otherwise reach every
reader at once, and strict readers drop a feed that is not well-formed (XML
1.0 section 1.2: a fatal error ends normal processing). So each XML document
(Atom, RSS, OPML) is parsed by lxml with recovery off, and each JSON document
by json, before it may replace the bytes being served. HTML pages have no
strict parser to ask and are left to their autoescaping templates.
"""

from __future__ import annotations

import json

from lxml import etree

from syndicate.catalog import DocKey
from syndicate.documents.rendered import Rendered
from syndicate.errors import SyndicateError

_STRICT = etree.XMLParser(
    recover=False, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
)


class BrokenBuild(SyndicateError):
    """A document that does not parse: never served; the last good bytes stay."""


def problem(key: DocKey, rendered: Rendered) -> str | None:
    """Why the document would not parse strictly, or None when it does."""
    media = rendered.content_type.split(";")[0].strip()
    try:
        if media.endswith("json"):
            json.loads(rendered.body)
        elif media.endswith("xml") or media == "text/x-opml":
            etree.fromstring(rendered.body, _STRICT)
    except (ValueError, etree.XMLSyntaxError) as exc:
        return f"{key.doc} {key.fmt} {key.scope.kind}:{key.scope.key} page {key.page}: {exc}"
    return None


def check(key: DocKey, rendered: Rendered) -> Rendered:
    """The document itself when it parses; :class:`BrokenBuild` when it does not."""
    found = problem(key, rendered)
    if found is not None:
        raise BrokenBuild(found)
    return rendered
