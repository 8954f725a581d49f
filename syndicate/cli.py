"""The ``syndicate`` command.

Every command takes the config from ``--config``, else $SYNDICATE_CONFIG,
else ./config.toml, and reports problems as sentences on stderr with a
non-zero exit status, never as a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from syndicate import __version__
from syndicate.clock import SYSTEM, Clock
from syndicate.config import (
    CONFIG_ENV,
    Config,
    ConfigError,
    load_config,
    parse_config,
    private_fetching_warning,
)
from syndicate.errors import SyndicateError
from syndicate.store import Outcome, Store, StoreError


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"syndicate: {message}", err=True)
    sys.exit(code)


#: The command line's clock: the one place its commands learn the time.
CLOCK: Clock = SYSTEM


def now_utc() -> datetime:
    return CLOCK.now()


class Context:
    """What every command shares: the path of the config, loaded on demand."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    def config(self) -> Config:
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            fail(exc.report())

    def store(self, config: Config, *, create: bool = True) -> Store:
        try:
            return Store.open(config.store_path, create=create)
        except StoreError as exc:
            fail(str(exc))


@contextmanager
def progress(length: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent when stderr is not one (CI, pipes, cron).

    click's bar still prints its label once on a file that is not a terminal,
    a stray line in every cron mail; so off a terminal there is no bar at all.
    """
    if not sys.stderr.isatty():
        yield _Silent()
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar


class _Silent:
    """Stands in for a progress bar where nobody is watching."""

    def update(self, steps: int) -> None:
        pass


class Commands(click.Group):
    """A SyndicateError that a command lets out is one line on stderr, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SyndicateError as exc:
            fail(str(exc))


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Config file (default: ${CONFIG_ENV}, else ./config.toml).",
)
@click.version_option(__version__, prog_name="syndicate")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """syndicate: feeds and syndication for news publishers."""
    ctx.obj = Context(config_path)


@main.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate config.toml and the store; list every problem (exit 1) or say OK.

    Editors: run this after changing config.toml. It changes nothing.
    """
    try:
        config = load_config(obj.config_path)
    except ConfigError as exc:
        click.echo(exc.report(), err=True)
        sys.exit(1)
    problems: list[str] = []
    path = config.store_path
    if not path.exists():
        problems.append(
            f"store: {path} does not exist (run `syndicate demo` or `syndicate import`)"
        )
    else:
        try:
            with Store.open(path, create=False) as store:
                problems += [
                    f"store: {p}" for p in store.check(sections=[s.slug for s in config.sections])
                ]
                articles = store.count("articles")
        except StoreError as exc:
            problems.append(f"store: {exc}")
    warning = private_fetching_warning(config)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"OK: {config.source} is valid ({len(config.sections)} sections, "
        f"{len(config.sidebar.sources)} sidebar sources, {len(config.digests)} digests); "
        f"store {path} holds {articles} articles"
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.pass_obj
def backup(obj: Context, file: str) -> None:
    """Copy the store to FILE while everything keeps running (SQLite's online backup).

    The copy is a consistent snapshot, checked, and written whole or not at
    all. Restore by stopping the server and putting FILE in the store's place.
    """
    config = obj.config()
    target = Path(file)
    if target.resolve() == config.store_path.resolve():
        fail("FILE is the store itself; name another file")
    with Store.open(config.store_path, create=False) as store:
        pages = store.backup(target)
    size = target.stat().st_size
    click.echo(f"backed up {config.store_path} to {target}: {pages} pages, {size:,} bytes")


@main.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate every line, store nothing.")
@click.pass_obj
def import_(obj: Context, file: IO[bytes], dry_run: bool) -> None:
    """Import articles from a JSON Lines FILE (one article per line; '-' for stdin).

    Upserts by slug: importing the same file twice changes nothing. Every bad
    line is reported with its number; the good lines are stored in batches of
    about 0.2 s, each atomic, so the publishing API never waits long. The exit
    status is 1 if any line was bad, or if the disk filled (rerun to finish).
    """
    from syndicate.importer import read_jsonl
    from syndicate.store.core import StoreBusy, StoreFull

    config = obj.config()
    started = time.perf_counter()
    sections = [s.slug for s in config.sections]
    size = _size(file)
    if size:
        with progress(size, "reading") as bar:
            result = read_jsonl(_tracked(file, bar), sections, now=now_utc())
    else:
        result = read_jsonl(file, sections, now=now_utc())
    for error in result.errors:
        click.echo(f"{getattr(file, 'name', 'input')}: {error}", err=True)
    if dry_run:
        click.echo(
            f"{len(result.records)} valid, {len(result.errors)} bad (dry run, nothing stored)"
        )
        sys.exit(1 if result.errors else 0)
    counts: dict[Outcome, int] = {"created": 0, "updated": 0, "unchanged": 0}
    if result.records:
        with obj.store(config) as store:
            try:
                for batch in store.upsert_batches(result.records, now_utc()):
                    counts = {outcome: n + batch[outcome] for outcome, n in counts.items()}
            except StoreFull:
                fail(
                    f"the disk holding {config.store_path} is full: {sum(counts.values())} "
                    "articles stored before it filled, the rest were not; free space and run "
                    "the same import again (it skips what is stored)"
                )
            except StoreBusy as exc:
                fail(
                    f"{exc}: {sum(counts.values())} articles stored before that, the rest were "
                    "not; run the same import again (it skips what is stored)"
                )
    click.echo(
        f"{counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {len(result.errors)} bad line(s) "
        f"in {time.perf_counter() - started:.2f}s"
    )
    sys.exit(1 if result.errors else 0)


def _size(file: IO[bytes]) -> int:
    try:
        return Path(file.name).stat().st_size if file.seekable() else 0
    except (OSError, AttributeError, TypeError):
        return 0


def _tracked(file: IO[bytes], bar: Any) -> Iterator[bytes]:
    for line in file:
        bar.update(len(line))
        yield line


@main.command(name="export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--watch", is_flag=True, help="Then keep it current, printing each change.")
@click.pass_obj
def export_(obj: Context, directory: str, watch: bool) -> None:
    """Write every feed, archive, /feeds and the sidebar JSON as files, with .gz and .br."""
    from syndicate.export.run import command

    config = obj.config()
    with obj.store(config, create=False) as store:
        target = Path(directory)
        command(config, store, target, watch=watch, clock=CLOCK, progress=progress, echo=click.echo)


@main.command()
@click.option("--articles", type=click.IntRange(1, 10_000_000), default=2400, show_default=True)
@click.option("--replace", is_flag=True, help="Overwrite a store that already holds articles.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) if the store has articles.")
@click.option("--seed", type=int, default=2094, show_default=True)
@click.pass_obj
def demo(obj: Context, articles: int, replace: bool, if_empty: bool, seed: int) -> None:
    """Fill the configured store with a realistic demo publication."""
    from syndicate.demo import DemoRefused, generate_demo

    config = obj.config()
    path = config.store_path
    if if_empty and path.exists():
        try:
            with Store.open(path, create=False) as store:
                held = store.count("articles")
        except StoreError as exc:
            fail(str(exc))
        if held:
            click.echo(f"{path} already holds {held} articles; keeping it")
            return
    with progress(articles, "writing articles") as bar:
        try:
            report = generate_demo(
                path,
                config,
                articles=articles,
                now=now_utc(),
                replace=replace,
                seed=seed,
                progress=bar.update,
            )
        except DemoRefused as exc:
            fail(str(exc))
    click.echo(
        f"{path}: {report.articles} articles, {report.authors} authors, "
        f"{report.issues} print issues, {report.tags} tags in {report.seconds:.1f}s"
    )


@main.command()
@click.option("--all", "everything", is_flag=True, help="Fetch every source, due or not.")
@click.pass_obj
def fetch(obj: Context, everything: bool) -> None:
    """Refresh the sidebar's outside feeds once and print a summary table.

    Exits 0 even when some sources fail (their errors are recorded and shown
    here and on the admin page); non-zero only if the fetcher cannot run.
    Retired sources (410 Gone) are skipped, even with --all, until
    `syndicate sources enable` is run for them.
    """
    import asyncio

    from syndicate.fetch.runner import FetchRunner, SourceReport, parser_pool

    config = obj.config()
    sources = [s for s in config.sidebar.sources if s.enabled]
    with obj.store(config) as store, parser_pool(os.cpu_count() or 1) as pool:
        runner = FetchRunner(config, store, pool=pool)
        with progress(len(sources), "fetching") as bar:

            def done(report: SourceReport) -> None:
                bar.update(1)

            reports = asyncio.run(runner.run(everything=everything, on_report=done))
    click.echo(format_reports(reports))


def format_reports(reports: list[Any]) -> str:
    """The summary table: source, status, new, updated, time, error."""
    header = ("source", "status", "new", "updated", "time", "error")
    rows = [
        (
            r.name,
            str(r.status) if r.status is not None else r.outcome,
            str(r.new),
            str(r.updated),
            f"{r.seconds:.2f}s",
            r.error or "",
        )
        for r in reports
    ]
    if not rows:
        return "No source was due (use --all to fetch every source now)."
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:-1])]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    failed = sum(1 for r in reports if r.error)
    lines.append(f"{len(reports)} source(s) fetched, {failed} failed")
    return "\n".join(lines)


@main.group()
def sources() -> None:
    """The sidebar's outside feeds: OPML in and out, health, re-enabling."""


@sources.command(name="export")
@click.pass_obj
def sources_export(obj: Context) -> None:
    """Print the configured sources as OPML (for feed readers)."""
    from syndicate.opml import sources_to_opml

    config = obj.config()
    sys.stdout.write(sources_to_opml(config.site.title, config.sidebar.sources))


@sources.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@click.pass_obj
def sources_import(obj: Context, file: IO[bytes], dry_run: bool) -> None:
    """Add the feeds of an OPML FILE to config.toml as [[sidebar.sources]].

    config.toml stays the one list of sources: this appends blocks to it
    (keeping your comments), skips feeds already listed, and checks the
    result before writing it.
    """
    from syndicate.opml import OpmlError, append_sources, read_opml

    config = obj.config()
    try:
        outlines = read_opml(file.read())
    except OpmlError as exc:
        fail(f"{getattr(file, 'name', 'input')}: {exc}")
    known = {s.url for s in config.sidebar.sources}
    names = {s.name for s in config.sidebar.sources}
    added = []
    for name, url in outlines:
        if url in known:
            continue
        unique = name
        n = 2
        while unique in names:
            unique = f"{name} ({n})"
            n += 1
        names.add(unique)
        known.add(url)
        added.append((unique, url))
    if not added:
        click.echo("Nothing to add: every feed in the file is already a source.")
        return
    text = append_sources(config.source.read_text(encoding="utf-8"), added)
    try:
        parse_config(text, config.source)
    except ConfigError as exc:
        fail("the result would not be a valid config, nothing written:\n" + exc.report())
    for name, url in added:
        click.echo(f"+ {name}: {url}")
    if dry_run:
        click.echo(f"{len(added)} source(s) would be added (dry run, nothing written)")
        return
    config.source.write_text(text, encoding="utf-8")
    click.echo(f"{len(added)} source(s) added to {config.source}")


@sources.command(name="list")
@click.pass_obj
def sources_list(obj: Context) -> None:
    """Each source's health: last fetch, status, failures, last error, next fetch."""
    from syndicate.store.sources import Sources

    config = obj.config()
    with obj.store(config) as store:
        found = Sources(store)
        found.sync([(s.name, s.url) for s in config.sidebar.sources if s.enabled])
        for row in found.all():
            state = "retired" if row.retired else ("" if row.configured else "not configured")
            click.echo(
                f"{row.name}\n  url: {row.fetch_url}\n  last fetch: {row.last_fetch or 'never'}"
                f"  status: {row.last_status or '-'}  failures: {row.failures}"
                f"  entries: {row.entries}  next: {row.next_fetch or 'now'} {state}".rstrip()
                + (f"\n  last error: {row.last_error}" if row.last_error else "")
            )


@sources.command(name="enable")
@click.argument("source")
@click.pass_obj
def sources_enable(obj: Context, source: str) -> None:
    """Re-enable a retired or failing SOURCE (its name or URL): fetched on the next run."""
    from syndicate.store.sources import Sources

    config = obj.config()
    with obj.store(config) as store:
        if not Sources(store).enable(source):
            fail(f"no source named {source!r} (see `syndicate sources list`)")
    click.echo(f"{source}: enabled; it will be fetched on the next run")


@main.group()
def user() -> None:
    """Editor accounts for the admin area (/admin)."""


@user.command(name="add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from stdin.")
@click.pass_obj
def user_add(obj: Context, name: str, password_stdin: bool) -> None:
    """Create editor NAME; asks for the password twice (never take it as an argument)."""
    from syndicate.store.accounts import AccountError, Accounts, check_name

    config = obj.config()
    try:
        check_name(name)
    except AccountError as exc:
        fail(str(exc))
    password = _new_password(password_stdin)
    with obj.store(config) as store:
        try:
            Accounts(store).add_editor(name, password, now_utc())
        except AccountError as exc:
            fail(str(exc))
    click.echo(f"editor {name!r} added; log in at {config.site.root}/admin")


def _new_password(from_stdin: bool) -> str:
    """A new password: one line of stdin, or asked twice on the terminal; checked."""
    from syndicate.passwords import password_problem

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat it")
    else:
        fail("no terminal to ask for a password: use --password-stdin")
    problem = password_problem(password)
    if problem:
        fail(problem)
    return password


@user.command(name="password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from stdin.")
@click.pass_obj
def user_password(obj: Context, name: str, password_stdin: bool) -> None:
    """Set editor NAME's password; logs them out everywhere (all their sessions end)."""
    from syndicate.store.accounts import Accounts

    config = obj.config()
    password = _new_password(password_stdin)
    with obj.store(config) as store:
        if not Accounts(store).set_password(name, password):
            fail(f"no editor named {name!r}")
    click.echo(f"editor {name!r}: password changed; their sessions have ended")


@user.command(name="remove")
@click.argument("name")
@click.pass_obj
def user_remove(obj: Context, name: str) -> None:
    """Delete editor NAME (their sessions stop working at once)."""
    from syndicate.store.accounts import Accounts

    config = obj.config()
    with obj.store(config) as store:
        if not Accounts(store).remove_editor(name):
            fail(f"no editor named {name!r}")
    click.echo(f"editor {name!r} removed")


@user.command(name="list")
@click.pass_obj
def user_list(obj: Context) -> None:
    """List editor accounts."""
    from syndicate.store.accounts import Accounts

    config = obj.config()
    with obj.store(config) as store:
        editors = Accounts(store).editors()
    if not editors:
        click.echo("no editors yet: `syndicate user add NAME` creates one")
    for account in editors:
        click.echo(f"{account.name}  (since {account.created_at:%Y-%m-%d})")


@main.group()
def token() -> None:
    """Bearer tokens for the publishing API (/api)."""


@token.command(name="add")
@click.argument("name")
@click.pass_obj
def token_add(obj: Context, name: str) -> None:
    """Create a token NAME and print it once; only its hash is kept."""
    from syndicate.passwords import new_token
    from syndicate.store.accounts import AccountError, Accounts

    config = obj.config()
    secret = new_token()
    with obj.store(config) as store:
        try:
            Accounts(store).add_token(name, secret, now_utc())
        except AccountError as exc:
            fail(str(exc))
    click.echo(secret)
    click.echo(
        f"token {name!r} created. Keep it now: it cannot be shown again. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@token.command(name="revoke")
@click.argument("name")
@click.pass_obj
def token_revoke(obj: Context, name: str) -> None:
    """Revoke token NAME; requests with it fail from now on."""
    from syndicate.store.accounts import Accounts

    config = obj.config()
    with obj.store(config) as store:
        if not Accounts(store).revoke_token(name):
            fail(f"no token named {name!r}")
    click.echo(f"token {name!r} revoked")


@token.command(name="list")
@click.pass_obj
def token_list(obj: Context) -> None:
    """List tokens by name (never the tokens themselves)."""
    from syndicate.store.accounts import Accounts

    config = obj.config()
    with obj.store(config) as store:
        tokens = Accounts(store).tokens()
    if not tokens:
        click.echo("no tokens yet: `syndicate token add NAME` creates one")
    for account in tokens:
        used = (
            f"last used {account.last_used_at:%Y-%m-%d %H:%M}"
            if account.last_used_at
            else "never used"
        )
        click.echo(f"{account.name}  (since {account.created_at:%Y-%m-%d}, {used})")


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port (default from config)."
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Worker processes sharing the port (default from config; 0: one per core).",
)
@click.option(
    "--get", "get_path", default=None, help="Run one GET through the app, print it, exit."
)
@click.option("--no-fetch", is_flag=True, help="Do not run the sidebar's fetcher.")
@click.pass_obj
def serve(
    obj: Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    get_path: str | None,
    no_fetch: bool,
) -> None:
    """Serve feeds over HTTP (and run the fetcher)."""
    from syndicate.web.serve import get_once, run_server

    config = obj.config()
    if get_path is not None:
        status, head, body = get_once(config, get_path)
        click.echo(head, err=True)
        sys.stdout.buffer.write(body)
        sys.exit(0 if status < 400 else 1)
    try:
        run_server(config, host=host, port=port, workers=workers, fetch=not no_fetch)
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot serve: {exc}")


if __name__ == "__main__":  # pragma: no cover
    main()
