"""Editing sections and sidebar sources from /admin/edit, with an audit log.

Every edit is a form behind the admin gate (login and CSRF, see
``syndicate.web.admin``) carrying the fingerprint of config.toml the page was
made from. Saving one (:func:`_save`), in a thread:

1. opens a store write transaction (the audit log's, ``syndicate.store.audit``),
   which also keeps two editors in two worker processes from saving at once;
2. reads config.toml as it is now and refuses if its fingerprint is not the
   form's (:class:`~syndicate.configsave.Conflict`: another editor saved, or
   someone edited the file by hand), applies the edit to that current text
   (``syndicate.tomledit``, keeping every comment and blank line), validates
   the result in full and replaces the file atomically
   (``syndicate.configsave``);
3. writes the audit row and commits. If anything fails nothing is written; if
   the commit itself fails after the file was replaced, the old file is put
   back, so no edit stands without its record and no record claims an edit.

The worker then reloads the config at once (``LiveConfig.reload``) and, under
the supervisor, has it tell every worker to reload (SIGHUP, as ``kill -HUP``
does; ``syndicate.web.live.reload_everywhere``), so the edit is in force in
all of them at once.
A refused edit (conflict, invalid value) shows the page again with the
editor's input still in the form, and the reason: for an invalid value, each
problem with its key path, as ``syndicate check`` says it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from syndicate.catalog import FORMATS, feed_path
from syndicate.config import Config, ConfigError, parse_config
from syndicate.configsave import Conflict, Prepared, fingerprint_of, prepare, write_atomically
from syndicate.fetch.trial import try_source
from syndicate.models import Scope
from syndicate.store import Store, StoreError
from syndicate.store.audit import AuditEntry, AuditLog, section_articles
from syndicate.tomledit import SECTIONS, SOURCES, EditError, append, index_of, move, remove, update
from syndicate.web.admin import Visit, redirect, render
from syndicate.web.keys import LIVE
from syndicate.web.live import reload_everywhere


class Unchanged(Exception):
    """The edit leaves config.toml as it is: nothing to write or record."""


Gate = Callable[[Callable[[Visit], Awaitable[web.StreamResponse]]], Any]


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class OnDisk:
    """config.toml as the page shows it: its fingerprint, and its config if it is valid."""

    fingerprint: str
    config: Config | None
    problems: tuple[str, ...] = ()


def _read(visit: Visit) -> OnDisk:
    path = visit.config.source
    try:
        data = path.read_bytes()
    except OSError as exc:
        return OnDisk("", None, (f"cannot read {path}: {exc.strerror or exc}",))
    try:
        return OnDisk(fingerprint_of(data), parse_config(data.decode("utf-8"), path))
    except UnicodeDecodeError:
        return OnDisk(fingerprint_of(data), None, ("config.toml is not UTF-8 text",))
    except ConfigError as exc:
        return OnDisk(fingerprint_of(data), None, tuple(exc.problems))


def _page_data(visit: Visit, disk: OnDisk) -> dict[str, Any]:
    config = disk.config or visit.config
    return {
        "fingerprint": disk.fingerprint,
        "disk_problems": disk.problems,
        "sections": [
            {
                "slug": s.slug,
                "title": s.title,
                "description": s.description,
                "articles": section_articles(visit.store, s.slug, drafts=False),
            }
            for s in config.sections
        ],
        "sources": config.sidebar.sources,
        "changes": AuditLog(visit.store).latest(),
    }


async def edit_page(
    visit: Visit, *, status: int = 200, draft: dict[str, str] | None = None, **notice: Any
) -> web.StreamResponse:
    """The editing page; ``draft`` refills the form the editor sent, ``notice`` says why."""
    disk = await asyncio.to_thread(_read, visit)
    data = await asyncio.to_thread(_page_data, visit, disk)
    saved = visit.request.query.get("saved")
    notice = {"conflict": "", "problems": (), **notice}
    draft = {"form": "", **(draft or {})}
    return render(visit, "edit.html", status=status, draft=draft, saved=saved, **data, **notice)


# -- saving -------------------------------------------------------------------------


def _apply(
    store: Store, visit: Visit, fingerprint: str, edit: Callable[[str], str], entry: AuditEntry
) -> Prepared:
    """Check, write and record one edit: all of it or none (see the module docstring)."""
    path = visit.config.source
    done: list[Prepared] = []

    def change() -> Prepared:
        prepared = prepare(path, fingerprint, edit)
        if prepared.after == prepared.before:
            raise Unchanged  # rolls the audit row back: nothing happened
        write_atomically(path, prepared.after)
        done.append(prepared)
        return prepared

    try:
        return AuditLog(store).record(entry, change)
    except StoreError:
        if done:  # the commit failed after the file was replaced: put it back
            write_atomically(path, done[0].before)
        raise


async def _save(
    visit: Visit,
    *,
    action: str,
    target: str,
    summary: str,
    edit: Callable[[str], str],
    draft: dict[str, str],
    anchor: str,
) -> web.StreamResponse:
    form = await visit.request.post()
    entry = AuditEntry(visit.now, visit.editor or "?", action, target, summary)
    try:
        await asyncio.to_thread(
            _apply, visit.store, visit, _field(form, "fingerprint"), edit, entry
        )
    except Unchanged:
        return redirect(f"/admin/edit?saved=0#{anchor}")
    except Conflict as exc:
        return await edit_page(visit, status=409, draft=draft, conflict=str(exc))
    except ConfigError as exc:
        return await edit_page(visit, status=422, draft=draft, problems=exc.problems)
    except EditError as exc:
        return await edit_page(visit, status=422, draft=draft, problems=[str(exc)])
    except StoreError as exc:
        return await edit_page(
            visit, status=503, draft=draft, problems=[f"{exc}; nothing was changed"]
        )
    except OSError as exc:  # the file could not be written (disk full, permissions)
        reason = f"cannot write {visit.config.source.name}: {exc.strerror or exc}"
        return await edit_page(
            visit, status=503, draft=draft, problems=[f"{reason}; nothing was changed"]
        )
    # On the event loop, as the file watcher does: its listeners drop the cache.
    reload_everywhere(visit.request.app[LIVE], "admin")
    return redirect(f"/admin/edit?saved=1#{anchor}")


# -- sections -----------------------------------------------------------------------


async def section_add(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    slug, title, text = (_field(form, k) for k in ("slug", "title", "description"))
    values = {"slug": slug, "title": title} | ({"description": text} if text else {})
    return await _save(
        visit,
        action="section.add",
        target=slug,
        summary=f"added section {slug!r} ({title})",
        edit=lambda t: append(t, SECTIONS, values),
        draft={"form": "section-add", "slug": slug, "title": title, "description": text},
        anchor=f"section-{slug}",
    )


async def section_update(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    slug, title, text = (_field(form, k) for k in ("slug", "title", "description"))
    old = visit.config.section(slug)
    changed = []
    if old is None or old.title != title:
        changed.append(f"title {old.title if old else '?'!r} -> {title!r}")
    if old is None or old.description != text:
        changed.append("description changed" if text else "description removed")
    return await _save(
        visit,
        action="section.update",
        target=slug,
        summary=f"section {slug!r}: " + ("; ".join(changed) or "no change"),
        edit=lambda t: update(
            t,
            SECTIONS,
            index_of(t, SECTIONS, "slug", slug),
            {"title": title, "description": text or None},
        ),
        draft={"form": f"section-{slug}", "title": title, "description": text},
        anchor=f"section-{slug}",
    )


async def section_move(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    slug, way = _field(form, "slug"), _field(form, "direction")
    step = -1 if way == "up" else 1

    def edit(text: str) -> str:
        at = index_of(text, SECTIONS, "slug", slug)
        return move(text, SECTIONS, at, at + step)

    return await _save(
        visit,
        action="section.move",
        target=slug,
        summary=f"moved section {slug!r} {'up' if step < 0 else 'down'}",
        edit=edit,
        draft={},
        anchor=f"section-{slug}",
    )


async def section_remove(visit: Visit) -> web.StreamResponse:
    """Remove a section; one with articles asks first, saying what becomes of them."""
    form = await visit.request.post()
    slug = _field(form, "slug")
    articles = await asyncio.to_thread(section_articles, visit.store, slug)
    section = visit.config.section(slug)
    if articles and _field(form, "confirm") != "yes":
        root = visit.config.site.root
        return render(
            visit,
            "edit_remove.html",
            slug=slug,
            title=section.title if section else slug,
            articles=articles,
            feeds=[root + feed_path(Scope("section", slug), fmt) for fmt in FORMATS],
            fingerprint=_field(form, "fingerprint"),
        )
    return await _save(
        visit,
        action="section.remove",
        target=slug,
        summary=f"removed section {slug!r}"
        + (
            f" ({articles} article{'s' if articles != 1 else ''} kept in the store)"
            if articles
            else ""
        ),
        edit=lambda t: remove(t, SECTIONS, index_of(t, SECTIONS, "slug", slug)),
        draft={},
        anchor="sections",
    )


# -- sources ------------------------------------------------------------------------


async def source_try(visit: Visit) -> web.StreamResponse:
    """Fetch a would-be source once, through the real fetcher, and show what it gives."""
    form = await visit.request.post()
    name, url, fingerprint = _field(form, "name"), _field(form, "url"), _field(form, "fingerprint")
    draft = {"form": "source-add", "name": name, "url": url}
    path = visit.config.source
    try:  # the same checks as saving, first: no fetch of something that cannot be added
        await asyncio.to_thread(
            prepare, path, fingerprint, lambda t: append(t, SOURCES, {"name": name, "url": url})
        )
    except Conflict as exc:
        return await edit_page(visit, status=409, draft=draft, conflict=str(exc))
    except ConfigError as exc:
        return await edit_page(visit, status=422, draft=draft, problems=exc.problems)
    except EditError as exc:
        return await edit_page(visit, status=422, draft=draft, problems=[str(exc)])
    async with visit.state.fetching:  # one editor-triggered fetch at a time per worker
        trial = await try_source(visit.config.fetcher, url, clock=visit.state.clock)
    return render(
        visit, "edit_trial.html", name=name, url=url, trial=trial, fingerprint=fingerprint
    )


async def source_add(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    name, url = _field(form, "name"), _field(form, "url")
    return await _save(
        visit,
        action="source.add",
        target=name,
        summary=f"added source {name!r} ({url})",
        edit=lambda t: append(t, SOURCES, {"name": name, "url": url}),
        draft={"form": "source-add", "name": name, "url": url},
        anchor="sources",
    )


async def source_enable(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    url, enable = _field(form, "url"), _field(form, "enabled") == "yes"
    source = next((s for s in visit.config.sidebar.sources if s.url == url), None)
    name = source.name if source else url
    return await _save(
        visit,
        action="source.enable" if enable else "source.disable",
        target=name,
        summary=f"{'re-enabled' if enable else 'disabled'} source {name!r}",
        # enabled = true is the default: re-enabling removes the key again.
        edit=lambda t: update(
            t, SOURCES, index_of(t, SOURCES, "url", url), {"enabled": None if enable else False}
        ),
        draft={},
        anchor="sources",
    )


async def source_remove(visit: Visit) -> web.StreamResponse:
    form = await visit.request.post()
    url = _field(form, "url")
    source = next((s for s in visit.config.sidebar.sources if s.url == url), None)
    name = source.name if source else url
    return await _save(
        visit,
        action="source.remove",
        target=name,
        summary=f"removed source {name!r} ({url})",
        edit=lambda t: remove(t, SOURCES, index_of(t, SOURCES, "url", url)),
        draft={},
        anchor="sources",
    )


def add_routes(app: web.Application, gate: Gate) -> None:
    """Register /admin/edit and its forms behind ``gate`` (admin's login and CSRF check)."""
    router = app.router
    router.add_get("/admin/edit", gate(edit_page))
    for path, handler in (
        ("/admin/edit/sections/add", section_add),
        ("/admin/edit/sections/update", section_update),
        ("/admin/edit/sections/move", section_move),
        ("/admin/edit/sections/remove", section_remove),
        ("/admin/edit/sources/try", source_try),
        ("/admin/edit/sources/add", source_add),
        ("/admin/edit/sources/enable", source_enable),
        ("/admin/edit/sources/remove", source_remove),
    ):
        router.add_post(path, gate(handler))
