"""The OpenAPI 3.1 description of the publishing API, as plain data.

It is built from the config in force on every request, so the ``section``
enum a CMS sees is the one ``PUT`` checks against. Every limit in it is the
one :func:`syndicate.records.parse_record` enforces (the test suite runs
schemathesis against it, so a schema looser or stricter than the server
fails a test, not a CMS in production). What JSON Schema cannot say is in
the descriptions: a body ``slug`` must equal the path's, two authors may not
fold to the same slug, and a time must convert to UTC within years 1-9999.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syndicate import __version__
from syndicate.records import MAX_AUTHORS, MAX_PDF_LENGTH, MAX_TAGS, MAX_TITLE
from syndicate.records import MAX_BODY as MAX_BODY_CHARS

JsonObject = dict[str, Any]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_SLUG = 300
MAX_ISSUE = 10**9 - 1
#: Python's whitespace (``str.isspace``), spelled out: ``\s`` means another
#: set in ECMA-262 regexes, which JSON Schema tools may use.
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: "Has a character that is not whitespace", as ``str.strip()`` sees it.
NOT_BLANK = f"[^{SPACE}]"
#: What ``urlsplit`` takes for a scheme other than http(s), once ``strip()``
#: and its own stripping of C0 controls have run: such URLs are refused.
OTHER_SCHEME = rf"^[{SPACE}]*[\x00-\x20]*(?![Hh][Tt][Tt][Pp][Ss]?:)[A-Za-z][A-Za-z0-9+.\-]*:"


def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(name: str) -> JsonObject:
    return {"$ref": f"#/components/responses/{name}"}


def _nullable(schema: JsonObject) -> JsonObject:
    return {"anyOf": [schema, {"type": "null"}]}


def _text(limit: int, description: str) -> JsonObject:
    return _nullable({"type": "string", "maxLength": limit, "description": description})


def _schemas(sections: Sequence[str]) -> JsonObject:
    url: JsonObject = {
        "type": "string",
        "maxLength": 4000,
        "pattern": NOT_BLANK,
        # A `not` rather than lookaheads in one pattern: generators (schemathesis)
        # draw from a plain pattern and filter, where lookaheads make them search.
        "not": {"pattern": OTHER_SCHEME},
        "description": "An http(s) URL, or a URL relative to the site (no other scheme). "
        "Surrounding whitespace is dropped. A URL that Python's urlsplit cannot parse "
        "(an unbalanced [ in the host) is refused too.",
    }
    date_time: JsonObject = {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339; stored in UTC to the second. A time without an offset is "
        "taken as UTC. It must fall within years 1-9999 once converted to UTC.",
    }
    return {
        "Slug": {
            "type": "string",
            "pattern": SLUG_PATTERN,
            "maxLength": MAX_SLUG,
            "description": "Lowercase ASCII letters and digits in hyphen-separated runs.",
        },
        "Url": url,
        "AuthorInput": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 300, "pattern": NOT_BLANK},
                "slug": _nullable(
                    {
                        "type": "string",
                        "pattern": SLUG_PATTERN,
                        "description": "Defaults to the name folded to a slug.",
                    }
                ),
                "bio": _text(10_000, "Kept if left out."),
                "email": _text(300, "Kept if left out."),
                "url": _nullable(_ref("Url")),
            },
            "description": "An author with details; other keys are ignored.",
        },
        "IssueInput": {
            "type": "object",
            "required": ["number"],
            "properties": {
                "number": {"type": "integer", "minimum": 1, "maximum": MAX_ISSUE},
                "date": _nullable({"type": "string", "format": "date"}),
                "pdf_url": _nullable(_ref("Url")),
                "pdf_length": _nullable(
                    {"type": "integer", "minimum": 1, "maximum": MAX_PDF_LENGTH}
                ),
            },
            "description": "A print issue; a date or PDF left out never erases a stored one. "
            "Other keys are ignored.",
        },
        "ImageInput": {
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": _ref("Url"),
                "caption": _text(5000, "Image caption."),
                "alt": _text(5000, "Alternative text."),
            },
            "description": "A lead image; other keys are ignored.",
        },
        "ArticleInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title", "published"],
            "description": "The fields of a `syndicate import` record. null is the same as "
            "leaving a field out. Unknown fields are refused.",
            "properties": {
                "slug": {
                    **_ref("Slug"),
                    "description": "Optional: the slug is the path's. If given, it must be "
                    "equal to it.",
                },
                "title": {"type": "string", "maxLength": MAX_TITLE, "pattern": NOT_BLANK},
                "standfirst": _text(20_000, "Summary shown under the title."),
                "body": _text(MAX_BODY_CHARS, "The article's HTML."),
                "section": {
                    "enum": [*sections, None],
                    "description": "A section slug from config.toml (the config in force).",
                },
                "issue": {
                    "anyOf": [
                        {"type": "integer", "minimum": 1, "maximum": MAX_ISSUE},
                        _ref("IssueInput"),
                        {"type": "null"},
                    ]
                },
                "published": date_time,
                "updated": _nullable(date_time),
                "authors": _nullable(
                    {
                        "type": "array",
                        "maxItems": MAX_AUTHORS,
                        "uniqueItems": True,
                        "items": {
                            "anyOf": [
                                {"type": "string", "pattern": NOT_BLANK},
                                _ref("AuthorInput"),
                            ]
                        },
                        "description": "Names or author objects, in byline order; no two may "
                        "fold to the same slug.",
                    }
                ),
                "tags": _nullable(
                    {"type": "array", "maxItems": MAX_TAGS, "items": {"type": "string"}}
                ),
                "image": {"anyOf": [_ref("Url"), _ref("ImageInput"), {"type": "null"}]},
                "status": {
                    "enum": ["published", "draft", None],
                    "description": "Drafts are stored but in no feed; default published.",
                },
            },
        },
        "Article": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "id",
                "url",
                "slug",
                "title",
                "standfirst",
                "body",
                "section",
                "published",
                "updated",
                "authors",
                "tags",
                "status",
            ],
            "description": "A stored article in the import shape, plus its id and permalink.",
            "properties": {
                "id": {"type": "integer", "minimum": 1, "description": "Permanent numeric id."},
                "url": {"type": "string", "description": "The article's public permalink."},
                "slug": _ref("Slug"),
                "title": {"type": "string"},
                "standfirst": {"type": "string"},
                "body": {"type": "string"},
                "section": {"type": ["string", "null"]},
                "published": {"type": "string", "format": "date-time"},
                "updated": {"type": "string", "format": "date-time"},
                "authors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["slug", "name"],
                        "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
                    },
                },
                "tags": {"type": "array", "items": {"type": "string"}},
                "issue": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["number"],
                    "properties": {
                        "number": {"type": "integer"},
                        "date": {"type": "string", "format": "date"},
                        "pdf_url": {"type": "string"},
                        "pdf_length": {"type": "integer"},
                    },
                },
                "image": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["url", "caption", "alt"],
                    "properties": {
                        "url": {"type": "string"},
                        "caption": {"type": "string"},
                        "alt": {"type": "string"},
                    },
                },
                "status": {"enum": ["published", "draft"]},
            },
        },
        "Error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "What went wrong, for a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Each bad field and why (for 400 invalid article).",
                },
            },
        },
    }


def _error(description: str, headers: JsonObject | None = None) -> JsonObject:
    out: JsonObject = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        out["headers"] = headers
    return out


def _responses(max_bytes: int) -> JsonObject:
    return {
        "InvalidArticle": _error(
            'The body is not JSON ("error" says where), or not a valid article: '
            '"error" is "invalid article" and "fields" names every bad field.'
        ),
        "Unauthorized": _error(
            "No bearer token, or one that is unknown or revoked.",
            {
                "WWW-Authenticate": {
                    "required": True,
                    "schema": {"type": "string", "pattern": '^Bearer realm="syndicate"'},
                }
            },
        ),
        "NotFound": _error("No article with this slug."),
        "MethodNotAllowed": _error(
            "Any method not described here, on any /api path that exists.",
            {"Allow": {"required": True, "schema": {"type": "string"}}},
        ),
        "PayloadTooLarge": _error(f"The body is larger than {max_bytes} bytes."),
        "UnsupportedMediaType": _error(
            "The Content-Type is not application/json (a charset=utf-8 parameter is fine)."
        ),
        "Busy": _error(
            "Another writer (a long import) held the store for more than 2.5 s; nothing "
            "was stored: send the same request again after Retry-After seconds.",
            {"Retry-After": {"required": True, "schema": {"type": "string"}}},
        ),
        "DiskFull": _error("The server's disk is full; nothing was stored."),
    }


def openapi_spec(sections: Sequence[str], max_bytes: int) -> JsonObject:
    """The whole document; ``sections`` are the configured section slugs."""
    article = {
        "description": "The article as stored.",
        "content": {"application/json": {"schema": _ref("Article")}},
    }
    slug_param = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": _ref("Slug"),
        "description": "The article's slug (its permalink name).",
    }
    secured: list[JsonObject] = [{"bearerAuth": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "syndicate publishing API",
            "version": __version__,
            "description": (
                "For the publication's CMS: put, read and delete articles by slug. A change is "
                "in the feeds on their next request. Tokens come from `syndicate token add "
                "NAME` and are sent as `Authorization: Bearer <token>`. Every answer, errors "
                "included, is JSON. Other methods on these paths answer 405 with an Allow "
                "header; any other /api path answers 404."
            ),
        },
        "paths": {
            "/api/articles/{slug}": {
                "parameters": [slug_param],
                "get": {
                    "operationId": "getArticle",
                    "summary": "Read a stored article (drafts included)",
                    "security": secured,
                    "responses": {
                        "200": article,
                        "401": _response("Unauthorized"),
                        "404": _response("NotFound"),
                    },
                },
                "put": {
                    "operationId": "putArticle",
                    "summary": "Create or replace an article",
                    "description": (
                        "The same fields and validation as `syndicate import`. Putting the "
                        "same article twice changes nothing (200, `updated` kept). At most "
                        f"{max_bytes} bytes of UTF-8 JSON. With `Expect: 100-continue`, "
                        "401, 413 and 415 come before the body is sent."
                    ),
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ArticleInput")}},
                    },
                    "responses": {
                        "200": {**article, "description": "Updated, or unchanged."},
                        "201": {
                            **article,
                            "description": "Created.",
                            "headers": {
                                "Location": {
                                    "required": True,
                                    "schema": {"type": "string"},
                                    "description": "This article's API URL.",
                                }
                            },
                        },
                        "400": _response("InvalidArticle"),
                        "401": _response("Unauthorized"),
                        "409": _error(
                            "Another writer deleted the article while this one saved it: retry."
                        ),
                        "413": _response("PayloadTooLarge"),
                        "415": _response("UnsupportedMediaType"),
                        "417": _error("An Expect header other than 100-continue."),
                        "503": _response("Busy"),
                        "507": _response("DiskFull"),
                    },
                },
                "delete": {
                    "operationId": "deleteArticle",
                    "summary": "Delete an article; it leaves every feed",
                    "security": secured,
                    "responses": {
                        "204": {"description": "Deleted."},
                        "401": _response("Unauthorized"),
                        "404": _response("NotFound"),
                        "503": _response("Busy"),
                        "507": _response("DiskFull"),
                    },
                },
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This description (no token needed)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token printed by `syndicate token add NAME`.",
                }
            },
            "schemas": _schemas(sections),
            "responses": _responses(max_bytes),
        },
    }
