"""The one Jinja2 environment: autoescaped, strict about undefined names."""

from __future__ import annotations

import jinja2

templates = jinja2.Environment(
    loader=jinja2.PackageLoader("syndicate.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
