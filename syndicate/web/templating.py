"""The admin pages' Jinja2 environment: their own templates, on the public pages' base."""

from __future__ import annotations

import jinja2

from syndicate.documents.templating import LOADER

templates = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.PackageLoader("syndicate.web", "templates"), LOADER]),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
