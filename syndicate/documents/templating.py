"""The Jinja2 environment of the public pages: autoescaped, strict about undefined names.

Text from outside (sidebar titles) and from editors only ever reaches a page
through these autoescaping templates.
"""

from __future__ import annotations

import jinja2

LOADER = jinja2.PackageLoader("syndicate.documents", "templates")

templates = jinja2.Environment(loader=LOADER, autoescape=True, undefined=jinja2.StrictUndefined)
