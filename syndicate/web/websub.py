"""The built-in WebSub hub's endpoint (``POST /websub``), and the engine's place in the app.

HTTP only: the request is checked (syndicate.websub.rules), answered 202
Accepted at once (section 5.1) and verified afterwards by
syndicate.websub.verify. In the leader worker the delivery engine (or, with
an outside hub, the announcer) listens on the change door, so each change
is pushed once however many workers serve.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from syndicate.config import HUB_PATH
from syndicate.documents.headers import no_store_headers
from syndicate.store.websub import WebSubStore
from syndicate.web.admin import Visit, _gate, _when, render
from syndicate.web.keys import CACHE, CLOCK, DOOR, HUB_COUNTS, LIVE, STORE
from syndicate.websub.client import Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.pusher import Pusher
from syndicate.websub.pushprocess import PushProcess
from syndicate.websub.rules import BadRequest, parse_request
from syndicate.websub.verify import Verifier

VERIFIER = web.AppKey("websub_verifier", Verifier)


def _text(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers={**no_store_headers(), **headers})


async def hub(request: web.Request) -> web.Response:
    """Subscribe or unsubscribe (section 5.1): 202 and verify later, or 400 saying why not."""
    if request.app[LIVE].config.websub.hub != "builtin":
        return _text(404, "This site's feeds name an outside WebSub hub, or none.")
    form = await request.post()
    try:
        wanted = parse_request({k: v for k, v in form.items() if isinstance(v, str)})
    except BadRequest as exc:
        return _text(400, str(exc))
    if not request.app[VERIFIER].accept(wanted):
        return _text(
            503, "Too many requests are being verified; try again.", **{"Retry-After": "5"}
        )
    return _text(
        202, f"Accepted: the hub will verify this {wanted.mode} request with its callback."
    )


async def about(request: web.Request) -> web.Response:
    return _text(
        405,
        "This is a WebSub hub: POST a form with hub.mode, hub.topic and hub.callback.",
        Allow="POST",
    )


# -- /admin/websub and /metrics ------------------------------------------------------


def _moment(seconds: float | None, now: datetime) -> dict[str, str] | None:
    return None if seconds is None else _when(datetime.fromtimestamp(seconds, UTC), now)


def _state(status: str | None) -> str:
    if not status:
        return "never"
    return "ok" if status.startswith("HTTP 2") else "bad"


def websub_data(subscriptions: WebSubStore, now: datetime) -> dict[str, Any]:
    """Subscribers per feed (callback host only: a callback's path may hold its own secret)."""
    feeds: dict[str, list[dict[str, Any]]] = {}
    for sub in subscriptions.subscriptions():
        feeds.setdefault(sub.topic, []).append(
            {
                "host": urlsplit(sub.callback).netloc,
                "since": _moment(sub.since, now),
                "expires": _moment(sub.expires_at, now),
                "last": _moment(sub.last_delivery_at, now),
                "status": sub.last_status,
                "state": _state(sub.last_status),
                "pending": sub.pending,
            }
        )
    announcements = [
        {
            "topic": a.topic,
            "last": _moment(a.last_at, now),
            "status": a.last_status,
            "state": _state(a.last_status),
            "attempts": a.attempts,
            "pending": a.pending,
        }
        for a in subscriptions.announcements()
    ]
    return {
        "feeds": [{"topic": t, "subscribers": subs} for t, subs in feeds.items()],
        "announcements": announcements,
    }


async def admin_page(visit: Visit) -> web.StreamResponse:
    data = await asyncio.to_thread(websub_data, WebSubStore(visit.store), visit.now)
    websub = visit.config.websub
    return render(
        visit,
        "websub.html",
        hub=websub.hub,
        hub_url=visit.config.hub_url,
        retry_for=websub.retry_for,
        **data,
    )


def add_routes(app: web.Application, *, leader: bool, push_process: bool = False) -> None:
    """The endpoint, and a cleanup context running the verifier and, in the leader, the engine.

    The engine runs in a process of its own with ``push_process`` (syndicate
    serve: syndicate.websub.pushprocess says why), else on a thread (an app
    in a test, whose clock the test may move).
    """

    async def websub_ctx(app: web.Application) -> AsyncIterator[None]:
        live, clock = app[LIVE], app[CLOCK]
        subscriptions = WebSubStore(app[STORE])
        counts = app[HUB_COUNTS] = HubCounts()
        pusher: Pusher | PushProcess | None = None
        async with Callbacks(live.config) as client:
            verifier = app[VERIFIER] = Verifier(
                live, subscriptions, app[CACHE], client, counts, clock
            )
            if leader:
                host = PushProcess if push_process else Pusher
                pusher = host(live, subscriptions, app[CACHE], counts, clock)
                await pusher.start()
                app[DOOR].subscribe(pusher.on_change)
            yield
            if pusher is not None:
                await pusher.stop()
            await verifier.close()

    app.cleanup_ctx.append(websub_ctx)
    app.router.add_post(HUB_PATH, hub)
    app.router.add_get(HUB_PATH, about)
    # Before admin's own routes, whose catch-all would answer this path first.
    app.router.add_get("/admin/websub", _gate(admin_page))
