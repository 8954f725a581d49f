"""The publishing API: the CMS puts, reads and deletes articles over HTTP.

The handlers are thin on purpose. Validation is
:func:`syndicate.records.parse_record`, the very function ``syndicate import``
uses, so a record that imports also publishes and both report the same
per-field reasons; storage is :class:`syndicate.store.Store`, whose write the
feed cache notices on its next request (the store's WAL-index header moves), so a
publish is in the feeds at once without this module knowing about feeds.

What is left here is HTTP: every request under ``/api/`` gets a JSON answer,
errors included, never a traceback, and in a fixed order: 404/405 from
routing, then 401 (before anything about the request is looked at, so
nothing leaks to a caller without a token), then 415, 413 and 400. The body
is read by hand with a cap, because aiohttp's ``client_max_size`` is one
setting for the whole app and chunked bodies have no length to check first;
a client that sends ``Expect: 100-continue`` (curl does, for large bodies)
hears 401, 415 or 413 before it sends the body at all.

The store is shared with whatever else writes it (``syndicate import``, the
fetcher, a CMS writing SQLite itself). A request's writes wait at most
:data:`PATIENCE` for another writer, then answer 503 with
``Retry-After``; a full disk answers 507. Neither is ever a bare 500, and
neither stores half an article.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.http import HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError

from syndicate.catalog import permalink
from syndicate.documents.headers import no_store_headers
from syndicate.errors import SyndicateError
from syndicate.importer import dump_record, read_json
from syndicate.models import Article, ArticleIn
from syndicate.records import RecordError, parse_record
from syndicate.store import Outcome, Store
from syndicate.store.accounts import Accounts
from syndicate.store.core import WRITE_PATIENCE, StoreBusy, StoreFull
from syndicate.web.keys import CLOCK, LIVE, STORE
from syndicate.web.openapi import openapi_spec

log = logging.getLogger("syndicate.api")

#: The largest request body read. The validator takes a 2,000,000-character
#: body; sent as \uXXXX escapes (what json.dumps does by default) that is
#: 12 MB, so the cap sits above it rather than refusing a record that imports.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
READ_CHUNK = 64 * 1024
REALM = 'Bearer realm="syndicate"'
#: RFC 6750's b64token: anything else cannot be a token we issued.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_NO_STORE = no_store_headers()
#: How long a request's write waits for another writer's lock before 503. A
#: bulk import leaves the lock free every 0.2 s, so this is only reached when
#: something holds it far longer (a stuck or foreign writer).
PATIENCE = 2.5
#: Seconds a client is told to wait after a 503 for a busy store.
RETRY_AFTER = 2

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(SyndicateError):
    """A client mistake, answered as ``{"error": ..., "fields": ...}`` with a status."""

    def __init__(
        self,
        status: int,
        error: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.fields = fields
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, object] = {"error": self.error}
        if self.fields is not None:
            body["fields"] = dict(self.fields)
        return web.json_response(body, status=self.status, headers={**_NO_STORE, **self.headers})


def _store_error(request: web.Request, exc: StoreBusy | StoreFull) -> ApiError:
    """A busy store is 503 with Retry-After; a full disk is 507 (RFC 4918: Insufficient Storage)."""
    if isinstance(exc, StoreBusy):
        log.warning("publishing API: %s %s: %s", request.method, request.path, exc)
        return ApiError(
            503,
            f"the store is busy with another write (an import?); try again in {RETRY_AFTER} s",
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    log.error("publishing API: %s %s: %s", request.method, request.path, exc)
    return ApiError(507, "the server's disk is full; nothing was stored")


def _error_response(request: web.Request, exc: Exception) -> web.Response:
    """ApiError as itself; anything else as a logged JSON 500, never a traceback."""
    if isinstance(exc, StoreBusy | StoreFull):
        exc = _store_error(request, exc)
    elif not isinstance(exc, ApiError):
        log.error("publishing API failed on %s %s", request.method, request.path, exc_info=exc)
        exc = ApiError(500, "internal error; the server log has the details")
    response = exc.response()
    if not request.content.is_eof():
        # A body was refused unread: the connection cannot carry another request.
        response.force_close()
    return response


@contextlib.contextmanager
def _bounded_writes() -> Iterator[None]:
    """Store writes started here wait at most :data:`PATIENCE` for the lock (then StoreBusy).

    The store's patience is a context variable: ``asyncio.to_thread`` runs its
    function in a copy of this request's context, so every write the request
    makes is bounded, and nothing else in the worker (the fetcher) is.
    """
    token = WRITE_PATIENCE.set(PATIENCE)
    try:
        yield
    finally:
        WRITE_PATIENCE.reset(token)


def _json_errors(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            with _bounded_writes():
                return await handler(request)
        except Exception as exc:
            return _error_response(request, exc)

    return wrapped


# -- the checks, in the order they run ---------------------------------------------


async def _authenticate(request: web.Request) -> str:
    """The token holder's name, or 401; the same answer for unknown and revoked tokens."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "a bearer token is required", headers={"WWW-Authenticate": REALM})
    owner = None
    if _TOKEN.fullmatch(token):
        accounts = Accounts(request.app[STORE])
        owner = await asyncio.to_thread(accounts.token_owner, token, request.app[CLOCK].now())
    if owner is None:
        raise ApiError(
            401,
            "the bearer token is not valid",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return owner


def _check_content_type(request: web.Request) -> None:
    charset = (request.charset or "utf-8").lower()
    if request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        given = request.headers.get("Content-Type", "")[:100] or "none"
        raise ApiError(415, f"Content-Type must be application/json (UTF-8), got {given!r}")


def _too_big(limit: int) -> ApiError:
    return ApiError(413, f"the body is larger than {limit} bytes")


async def _check_put_headers(request: web.Request) -> None:
    """Everything a PUT can be refused for before a byte of its body arrives."""
    await _authenticate(request)
    _check_content_type(request)
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        raise _too_big(MAX_REQUEST_BYTES)


async def _read_capped(request: web.Request, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` bytes (chunked bodies too)."""
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := await request.content.read(READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_big(limit)
            chunks.append(chunk)
    # Broken chunking, a body that is not the gzip or deflate its Content-Encoding
    # declares, a cut connection: the client's mistake, so 400.
    except (HttpProcessingError, web.RequestPayloadError, OSError) as exc:
        raise ApiError(400, f"the body could not be read: {exc}") from None
    return b"".join(chunks)


def _decode(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, f"body is not valid JSON: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        return read_json(text)
    except ValueError as exc:
        raise ApiError(400, f"body is {exc}") from None


def _validate(data: Any, slug: str, sections: set[str], now: datetime) -> ArticleIn:
    """parse_record, with the slug taken from the path (a body slug must agree)."""
    errors: dict[str, str] = {}
    if isinstance(data, dict):
        if "slug" in data and data["slug"] != slug:
            given = repr(data["slug"])[:100]
            errors["slug"] = f"must equal the slug in the URL ({slug!r}), got {given}"
        data = {**data, "slug": slug}
    try:
        record = parse_record(data, sections, now=now)
    except RecordError as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise ApiError(400, "invalid article", fields=errors)
    return record


# -- answers ------------------------------------------------------------------------


def article_json(article: Article, permalink: str) -> dict[str, object]:
    """The import shape of a stored article, plus its id, permalink and ``updated``."""
    record = ArticleIn(**{f.name: getattr(article, f.name) for f in dataclasses.fields(ArticleIn)})
    return {"id": article.id, "url": permalink, **dump_record(record)}


def _article_response(request: web.Request, article: Article, status: int = 200) -> web.Response:
    site = request.app[LIVE].config.site
    headers = dict(_NO_STORE)
    if status == 201:
        headers["Location"] = f"/api/articles/{article.slug}"
    link = permalink(site, article.slug, article.id)
    return web.json_response(article_json(article, link), status=status, headers=headers)


def _publish(store: Store, record: ArticleIn, now: datetime) -> tuple[Outcome, Article | None]:
    """Write and read back in one transaction, so the answer is what was written.

    Nothing is locked while the write waits for another writer, so reads
    (GETs, feeds) of this worker go on meanwhile.
    """
    return store.publish_article(record, now)


# -- handlers -----------------------------------------------------------------------


async def _expect_continue(request: web.Request) -> web.StreamResponse | None:
    """``Expect: 100-continue``: refuse before the body is sent, or invite it."""
    try:
        with _bounded_writes():
            await _check_put_headers(request)
        expect = request.headers.get("Expect", "")
        if expect.lower() != "100-continue":
            raise ApiError(417, f"cannot meet the expectation {expect[:50]!r}")
    except Exception as exc:
        return _error_response(request, exc)
    if request.version == HttpVersion11:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the response proper has not started
    return None


@_json_errors
async def put_article(request: web.Request) -> web.StreamResponse:
    """Create (201) or replace (200) by slug; a repeat changes nothing, so a CMS may retry."""
    await _check_put_headers(request)
    data = _decode(await _read_capped(request))
    sections = {s.slug for s in request.app[LIVE].config.sections}
    record = _validate(data, request.match_info["slug"], sections, request.app[CLOCK].now())
    outcome, stored = await asyncio.to_thread(
        _publish, request.app[STORE], record, request.app[CLOCK].now()
    )
    if stored is None:  # deleted by another process between the two statements
        raise ApiError(409, "the article was deleted while it was being saved; try again")
    return _article_response(request, stored, 201 if outcome == "created" else 200)


@_json_errors
async def get_article(request: web.Request) -> web.StreamResponse:
    """Drafts too: the CMS must see what it stored, whether or not a feed shows it."""
    await _authenticate(request)
    slug = request.match_info["slug"]
    found = await asyncio.to_thread(request.app[STORE].article, slug)
    if found is None:
        raise ApiError(404, f"no article {slug[:300]!r}")
    return _article_response(request, found)


@_json_errors
async def delete_article(request: web.Request) -> web.StreamResponse:
    """404 for a slug that is not stored, so a CMS can tell a typo from a deletion."""
    await _authenticate(request)
    slug = request.match_info["slug"]
    if not await asyncio.to_thread(request.app[STORE].delete_article, slug):
        raise ApiError(404, f"no article {slug[:300]!r}")
    return web.Response(status=204, headers=_NO_STORE)


@_json_errors
async def openapi_document(request: web.Request) -> web.StreamResponse:
    """Public on purpose: the description holds nothing a token protects."""
    sections = [s.slug for s in request.app[LIVE].config.sections]
    return web.json_response(
        openapi_spec(sections, MAX_REQUEST_BYTES), headers={"Cache-Control": "no-cache"}
    )


def _not_allowed(*allowed: str) -> Handler:
    allow = ", ".join(allowed)

    @_json_errors
    async def handle(request: web.Request) -> web.StreamResponse:
        raise ApiError(
            405,
            f"{request.method[:20]} is not allowed here (allowed: {allow})",
            headers={"Allow": allow},
        )

    return handle


@_json_errors
async def not_found(request: web.Request) -> web.StreamResponse:
    raise ApiError(404, f"no API endpoint {request.path[:200]!r}")


def add_routes(app: web.Application) -> None:
    """Register /api/...: each path's own methods first, then a JSON 405 for the rest.

    aiohttp tries a resource's named methods before its ``*`` route, so the
    fallback only sees the methods nothing else handles; the last route
    turns every other /api path into a JSON 404 instead of aiohttp's text one.
    """
    article = app.router.add_resource("/api/articles/{slug}")
    article.add_route("GET", get_article)
    article.add_route("HEAD", get_article)
    article.add_route("PUT", put_article, expect_handler=_expect_continue)
    article.add_route("DELETE", delete_article)
    article.add_route("*", _not_allowed("GET", "HEAD", "PUT", "DELETE"))
    spec = app.router.add_resource("/api/openapi.json")
    spec.add_route("GET", openapi_document)
    spec.add_route("HEAD", openapi_document)
    spec.add_route("*", _not_allowed("GET", "HEAD"))
    app.router.add_route("*", "/api", not_found)
    app.router.add_route("*", "/api/{tail:.*}", not_found)


__all__ = ["MAX_REQUEST_BYTES", "PATIENCE", "RETRY_AFTER", "add_routes", "article_json"]
