"""The editors' admin area (/admin): sections, sources' health, the config in force.

Every admin URL goes through one gate (:func:`_gate`), in this order:

1. no editor account in the store: the area is disabled, and every /admin
   URL answers 403 with a page saying how to create one (never open);
2. the session cookie is looked up in the store (a live session record of an
   editor who still exists: logging out, a new password or removing the
   editor deletes it); without one a GET is sent to the login page (303) and
   a POST is refused (403), so no data is shown;
3. every POST must carry its form's CSRF token, else 403;
4. every response, redirects and errors included, carries the headers of
   :func:`syndicate.web.auth.security_headers` (no-store, no framing, a CSP
   without scripts).

The CSRF and throttle rules are pure functions in ``syndicate.web.auth``;
sessions and failed-login counts are kept in the store (``Accounts``), so
every worker shares them; this module only applies them to requests. Pages are
Jinja2 templates (autoescaped) under ``templates/admin/``: source names,
errors and article titles come from outside and only ever reach a page
escaped.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from syndicate.catalog import FORMAT_LABELS, FORMATS, edition_path, feed_path, permalink
from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config
from syndicate.cutoffs import next_cutoff
from syndicate.fetch.retrieve import Retriever
from syndicate.fetch.runner import FetchRunner
from syndicate.humanize import relative_time
from syndicate.models import SITE, Scope
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.store.audit import AuditLog
from syndicate.store.digests import editions
from syndicate.store.sources import SourceRow, Sources
from syndicate.web import auth, subscribers
from syndicate.web.keys import CACHE, CLOCK, LIVE, STORE
from syndicate.web.templating import templates

#: Articles shown in each section's preview, and editions of each digest.
PREVIEW_ITEMS = 5
#: Config edits shown on /admin (the edit page shows more).
RECENT_CHANGES = 5
#: Password checks (scrypt, 32 MiB each) running at once per worker: bounds
#: the memory and threads a flood of login attempts can take.
CONCURRENT_CHECKS = 2


@dataclass
class AdminState:
    """Per worker: the CSRF secret (read once at start), login limits, fetch lock."""

    secret: bytes
    #: The login throttle (see ``syndicate.web.auth``); its counts are in the store.
    address_limit: int = auth.ADDRESS_LIMIT
    name_limit: int = auth.NAME_LIMIT
    login_window: int = auth.LOGIN_WINDOW
    checks: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENT_CHECKS))
    #: One editor-triggered fetch at a time per worker; a double click waits.
    fetching: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: The app's clock; tests may replace it.
    clock: Clock = SYSTEM


ADMIN = web.AppKey("admin", AdminState)


async def admin_ctx(app: web.Application) -> AsyncIterator[None]:
    """Read (or make) the CSRF secret once at start, shared by all workers via the store."""
    secret = await asyncio.to_thread(Accounts(app[STORE]).secret, "session")
    app[ADMIN] = AdminState(secret, clock=app[CLOCK])
    yield


@dataclass(frozen=True)
class Visit:
    """One admin request, past the gate."""

    request: web.Request
    state: AdminState
    config: Config
    store: Store
    now: datetime
    #: The logged-in editor, or None (on the login page, or without a session).
    editor: str | None = None
    #: The session token of the request's cookie, when it is a live session.
    session: str = ""
    #: The CSRF token this editor's forms carry.
    csrf: str = ""


Handler = Callable[[Visit], Awaitable[web.StreamResponse]]


# -- responses ----------------------------------------------------------------------


def _secure(response: web.StreamResponse, html: str = "") -> web.StreamResponse:
    response.headers.update(auth.security_headers(html))
    return response


def render(
    visit: Visit,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> web.Response:
    html = templates.get_template(f"admin/{template}").render(
        site=visit.config.site,
        editor=visit.editor,
        csrf=visit.csrf,
        here=visit.request.path,
        **context,
    )
    response = web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=headers
    )
    _secure(response, html)
    return response


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST the browser GETs the page (no resubmission on reload)."""
    return web.Response(status=303, headers={"Location": location})


def problem(visit: Visit, status: int, title: str, message: str) -> web.Response:
    return render(visit, "problem.html", status=status, title=title, message=message)


def _set_cookie(
    response: web.StreamResponse, config: Config, name: str, value: str, path: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        secure=auth.secure_cookies(config.site.base_url),
    )


def _drop_cookie(response: web.StreamResponse, config: Config, name: str, path: str) -> None:
    _set_cookie(response, config, name, "", path, 0)


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# -- the gate -------------------------------------------------------------------------


def _look(store: Store, token: str | None, now: datetime) -> tuple[bool, str | None]:
    """Whether any editor exists, and whose live session ``token`` is (reads only)."""
    accounts = Accounts(store)
    return accounts.has_editors(), accounts.session_editor(token, now)


def _gate(handler: Handler, *, login: bool = True) -> Callable[[web.Request], Awaitable[Any]]:
    """Wrap a handler with the checks every admin URL shares (see the module docstring)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        state = request.app[ADMIN]
        store = request.app[STORE]
        now = datetime.fromtimestamp(state.clock.time(), UTC)
        cookie = request.cookies.get(auth.SESSION_COOKIE)
        token = auth.session_token(cookie)
        any_editor, editor = await asyncio.to_thread(_look, store, token, now)
        visit = Visit(request, state, request.app[LIVE].config, store, now)
        if not any_editor:
            return render(visit, "disabled.html", status=403)
        if editor is not None and token is not None:
            visit = dataclasses.replace(
                visit, editor=editor, session=token, csrf=auth.csrf_token(state.secret, token)
            )
        if not login:
            return await handler(visit)
        if visit.editor is None:
            if request.method in ("GET", "HEAD"):
                response = redirect("/admin/login")
            else:
                response = problem(
                    visit, 403, "Not logged in", "Log in first, then send the form again."
                )
            if cookie is not None:  # malformed, expired, logged out or its editor gone
                _drop_cookie(response, visit.config, auth.SESSION_COOKIE, "/admin")
            return response
        if request.method not in ("GET", "HEAD"):
            form = await request.post()
            if not auth.check_csrf(state.secret, visit.session, _field(form, "csrf")):
                return _bad_form(visit)
        return await handler(visit)

    async def gated(request: web.Request) -> web.StreamResponse:
        response = await checked(request)
        if "Content-Security-Policy" not in response.headers:  # redirects: no page to hash
            _secure(response)
        return response

    return gated


def _bad_form(visit: Visit) -> web.Response:
    return problem(
        visit,
        403,
        "Form refused",
        "This form did not carry a valid security token (it may have expired, or come "
        "from another site). Go back, reload the page and try again.",
    )


# -- logging in and out -------------------------------------------------------------


async def login_page(visit: Visit) -> web.StreamResponse:
    if visit.editor is not None:
        return redirect("/admin")
    return _login_form(visit, visit.request.cookies.get(auth.LOGIN_COOKIE))


def _login_form(
    visit: Visit, nonce: str | None, *, status: int = 200, error: str = "", name: str = ""
) -> web.Response:
    """The login form, with a double-submit token (reusing the cookie's, so tabs agree)."""
    nonce = auth.login_nonce(nonce)
    response = render(
        visit,
        "login.html",
        status=status,
        login_csrf=auth.login_token(visit.state.secret, nonce),
        error=error,
        name=name,
    )
    _set_cookie(response, visit.config, auth.LOGIN_COOKIE, nonce, "/admin/login", auth.LOGIN_TTL)
    return response


async def login_submit(visit: Visit) -> web.StreamResponse:
    """Check the form's token, the throttle, then the password (in a thread).

    The throttle's counts are in the store, shared by every worker. The
    attempt is counted as a failure before its password is checked (in one
    transaction with the check of the counts, so attempts side by side cannot
    together pass a limit), and taken back if the password was right.
    """
    request, state = visit.request, visit.state
    form = await request.post()
    nonce = request.cookies.get(auth.LOGIN_COOKIE)
    if not auth.check_login_token(state.secret, nonce, _field(form, "csrf")):
        return _bad_form(visit)
    name, password = _field(form, "name"), _field(form, "password")
    accounts = Accounts(visit.store)
    keys = auth.limit_keys(
        request.remote, name, address_limit=state.address_limit, name_limit=state.name_limit
    )
    wait = await asyncio.to_thread(
        accounts.reserve_login, keys, state.clock.now(), state.login_window
    )
    if wait is not None:  # refused at once, without queueing for a password check
        return _too_many(visit, wait)
    async with state.checks:
        token = await asyncio.to_thread(
            accounts.open_session, name, password, state.clock.now(), auth.SESSION_TTL
        )
    if token is None:
        # One message and one status for an unknown name and a wrong password;
        # the check costs the same for both, so timing tells nothing either.
        return _login_form(
            visit, nonce, status=401, error="Wrong name or password.", name=name[:64]
        )
    await asyncio.to_thread(accounts.release_login, keys)
    if visit.session:  # logging in again: the session this browser had ends
        await asyncio.to_thread(accounts.end_session, visit.session)
    response = redirect("/admin")
    _set_cookie(response, visit.config, auth.SESSION_COOKIE, token, "/admin", auth.SESSION_TTL)
    _drop_cookie(response, visit.config, auth.LOGIN_COOKIE, "/admin/login")
    return response


def _too_many(visit: Visit, wait: int) -> web.Response:
    minutes = max(1, round(wait / 60))
    return render(
        visit,
        "problem.html",
        status=429,
        headers={"Retry-After": str(wait)},
        title="Too many attempts",
        message=f"Too many failed logins. Wait about {minutes} "
        f"minute{'s' if minutes != 1 else ''} and try again.",
    )


async def logout(visit: Visit) -> web.StreamResponse:
    """End the session on the server: its record is deleted, so a replayed cookie is refused."""
    await asyncio.to_thread(Accounts(visit.store).end_session, visit.session)
    response = redirect("/admin/login")
    _drop_cookie(response, visit.config, auth.SESSION_COOKIE, "/admin")
    return response


# -- pages ------------------------------------------------------------------------------


def _when(moment: datetime | None, now: datetime) -> dict[str, str] | None:
    """A moment for a table cell: exact UTC text, ISO for <time>, and how long ago or until."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if moment > now:
        relative = "in " + relative_time(now - (moment - now), now).removesuffix(" ago")
        relative = "in under a minute" if relative == "in just now" else relative
    else:
        relative = relative_time(moment, now)
    return {
        "text": moment.strftime("%d %b %Y, %H:%M UTC"),
        "iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "relative": relative,
    }


def _feed_urls(config: Config, scope: Scope) -> list[dict[str, str]]:
    return [
        {"label": FORMAT_LABELS[fmt], "url": config.site.root + feed_path(scope, fmt)}
        for fmt in FORMATS
    ]


def sections_data(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Each feed an editor looks after: the whole site, then every configured section."""
    scopes = [(SITE, "Whole site", "")] + [
        (Scope("section", s.slug), s.title, s.slug) for s in config.sections
    ]
    out = []
    for scope, title, slug in scopes:
        latest = store.latest(scope, now, PREVIEW_ITEMS)
        out.append(
            {
                "title": title,
                "slug": slug,
                "count": store.count_visible(scope, now),
                "feeds": _feed_urls(config, scope),
                "articles": [
                    {
                        "title": a.title,
                        "url": permalink(config.site, a.slug, a.id),
                        "when": _when(a.published, now),
                        "authors": [p.name for p in a.authors],
                        "standfirst": a.standfirst,
                    }
                    for a in latest
                ],
            }
        )
    return out


def digests_data(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Each digest: its feeds, when its next edition is cut, and its last editions."""
    out = []
    for digest in config.digests:
        kept = editions(store, digest.slug, PREVIEW_ITEMS)
        out.append(
            {
                "title": digest.title,
                "slug": digest.slug,
                "zone": digest.time_zone,
                "next": _when(next_cutoff(digest, now).at, now),
                "feeds": _feed_urls(config, Scope("digest", digest.slug)),
                "editions": [
                    {
                        "date": e.edition.isoformat(),
                        "title": e.title,
                        "articles": e.articles,
                        "url": config.site.root + edition_path(digest.slug, e.edition.isoformat()),
                        "when": _when(e.cutoff, now),
                    }
                    for e in kept
                ],
            }
        )
    return out


async def sections_page(visit: Visit) -> web.StreamResponse:
    data = await asyncio.to_thread(sections_data, visit.config, visit.store, visit.now)
    digests = await asyncio.to_thread(digests_data, visit.config, visit.store, visit.now)
    failures = visit.request.app[CACHE].failures.values()
    broken = [
        {"when": _when(at, visit.now), "reason": reason}
        for at, reason in sorted(failures, key=lambda f: f[0], reverse=True)
    ]
    extra = await asyncio.to_thread(_counts_and_changes, visit)
    return render(visit, "sections.html", sections=data, broken=broken, digests=digests, **extra)


def _counts_and_changes(visit: Visit) -> dict[str, Any]:
    """Subscriber figures beside each feed and in total, and the latest config edits."""
    scopes = [SITE] + [Scope("section", s.slug) for s in visit.config.sections]
    each, total = subscribers.figures(visit.store, scopes, visit.now)
    return {
        "subscribers": {scope.key: found for scope, found in each.items()},
        "subscribers_total": total,
        "changes": AuditLog(visit.store).latest(RECENT_CHANGES),
    }


def _status(row: SourceRow | None, enabled: bool, configured: bool) -> tuple[str, str]:
    """(what the status cell says, a CSS state) for one source."""
    if not configured:
        return "removed from config", "off"
    if not enabled:
        return "disabled in config", "off"
    if row is None or row.last_fetch is None:
        return "never", "never"
    status = str(row.last_status) if row.last_status is not None else "no answer"
    if row.retired:
        return f"{status} (retired)", "bad"
    return status, "bad" if row.failures else "ok"


def sources_data(config: Config, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Every configured source (fetched yet or not), then rows left from removed ones."""
    rows = {r.url: r for r in Sources(store).all()}
    listed: list[tuple[str, str, SourceRow | None, bool, bool]] = [
        (s.name, s.url, rows.get(s.url), s.enabled, True) for s in config.sidebar.sources
    ]
    known = {s.url for s in config.sidebar.sources}
    listed += [(r.name, r.url, r, False, False) for r in rows.values() if r.url not in known]
    out = []
    for name, url, row, enabled, configured in listed:
        status, state = _status(row, enabled, configured)
        out.append(
            {
                "id": row.id if row else None,
                "name": name,
                "url": url,
                "moved_to": row.current_url if row and row.current_url != url else None,
                "status": status,
                "state": state,
                "last_fetch": _when(row.last_fetch, now) if row else None,
                "failures": row.failures if row else 0,
                "error": row.last_error if row and row.failures else None,
                "error_at": _when(row.last_error_at, now) if row else None,
                "next_fetch": _when(row.next_fetch, now) if row else None,
                "entries": row.entries if row else 0,
                "last_new": row.last_new if row else 0,
                "retired": bool(row and row.retired),
                "fetchable": enabled and configured,
            }
        )
    return out


async def sources_page(visit: Visit) -> web.StreamResponse:
    data = await asyncio.to_thread(sources_data, visit.config, visit.store, visit.now)
    fetched = visit.request.query.get("fetched", "")
    just = next((s for s in data if fetched and str(s["id"]) == fetched), None)
    return render(visit, "sources.html", sources=data, just=just, fetched_all=fetched == "all")


async def fetch_now(visit: Visit) -> web.StreamResponse:
    """Fetch one configured source (or all of them) now, then show the table again.

    A retired source (it answered 410 Gone) is re-enabled first: pressing the
    button is the editor's word that it should be tried again, as with
    ``syndicate sources enable``.
    """
    form = await visit.request.post()
    target = _field(form, "source")
    config, store = visit.config, visit.store
    runner = FetchRunner(config, store, clock=visit.state.clock)
    configured = {url for _, url in runner.configured()}
    if target != "*" and target not in configured:
        return problem(
            visit,
            404,
            "No such source",
            "That source is not configured (or is disabled) in the config in force.",
        )
    async with visit.state.fetching:
        if target == "*":
            await runner.run(everything=True)
            return redirect("/admin/sources?fetched=all")
        sources = Sources(store)
        await asyncio.to_thread(sources.sync, runner.configured())
        row = next(r for r in await asyncio.to_thread(sources.all) if r.url == target)
        if row.retired:
            await asyncio.to_thread(sources.enable, row.url)
            fresh = await asyncio.to_thread(sources.get, row.id)
            row = fresh or row
        async with Retriever(config.fetcher, clock=visit.state.clock) as retriever:
            await runner.fetch_one(retriever, row)
    return redirect(f"/admin/sources?fetched={row.id}#source-{row.id}")


def _settings(value: object) -> list[tuple[str, str]]:
    """A config table's plain settings as (key, text) pairs, in declaration order."""
    pairs = []
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        if isinstance(item, tuple):
            continue
        # TOML spellings: true/false, not Python's True/False.
        pairs.append((f.name, str(item).lower() if isinstance(item, bool) else str(item)))
    return pairs


async def config_page(visit: Visit) -> web.StreamResponse:
    live = visit.request.app[LIVE]
    config = live.config
    path = config.source
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError:
        on_disk: str | None = None
    else:
        # Shown even when it is not UTF-8 (U+FFFD where it is not): the reload
        # that read it has already said why it was rejected, at the top.
        on_disk = raw.decode("utf-8", errors="replace")
    rejected = live.rejected
    return render(
        visit,
        "config.html",
        path=str(path),
        loaded=_when(live.loaded_at, visit.now),
        rejected=(
            {"when": _when(rejected.at, visit.now), "problems": rejected.problems}
            if rejected
            else None
        ),
        tables=[
            ("site", _settings(config.site)),
            ("store", _settings(config.store)),
            ("server", _settings(config.server)),
            ("feeds", _settings(config.feeds)),
            ("sidebar", _settings(config.sidebar)),
            ("fetcher", _settings(config.fetcher)),
        ],
        sections=config.sections,
        sources=config.sidebar.sources,
        on_disk=on_disk,
    )


async def not_found(visit: Visit) -> web.StreamResponse:
    return problem(visit, 404, "Not found", "There is no admin page at this address.")


async def to_sections(visit: Visit) -> web.StreamResponse:
    return redirect("/admin")


def add_routes(app: web.Application) -> None:
    """Register /admin/... routes, and the start-up step that reads the CSRF secret."""
    app.cleanup_ctx.append(admin_ctx)
    router = app.router
    router.add_get("/admin", _gate(sections_page))
    router.add_get("/admin/", _gate(to_sections))
    router.add_get("/admin/sections", _gate(sections_page))
    router.add_get("/admin/sources", _gate(sources_page))
    router.add_post("/admin/sources/fetch", _gate(fetch_now))
    router.add_get("/admin/config", _gate(config_page))
    router.add_get("/admin/login", _gate(login_page, login=False))
    router.add_post("/admin/login", _gate(login_submit, login=False))
    router.add_post("/admin/logout", _gate(logout))
    from syndicate.web import adminedit  # imports this module: registered here, not at the top

    adminedit.add_routes(app, _gate)
    router.add_route("*", "/admin/{tail:.*}", _gate(not_found))
