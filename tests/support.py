"""Helpers shared by tests: small configs and running `syndicate` for real."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MINIMAL_CONFIG = """
[site]
title = "Test Weekly"
base_url = "http://127.0.0.1:8080"
tag_authority = "test.example,2026"

[store]
path = "store.db"

[[sections]]
slug = "news"
title = "News"

[[sections]]
slug = "comment"
title = "Comment"
"""


def write_config(folder: Path, text: str = MINIMAL_CONFIG) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(
    *args: str,
    cwd: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the real `syndicate` command in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "syndicate", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


@contextmanager
def running_server(config: Path, *extra: str, timeout: float = 30) -> Iterator[str]:
    """Start `syndicate serve --port 0`, wait for /healthz, yield its root URL, stop it."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syndicate",
            "--config",
            str(config),
            "serve",
            "--port",
            "0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        root = None
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                if proc.poll() is not None:
                    raise AssertionError(
                        f"server exited: {proc.stderr.read() if proc.stderr else ''}"
                    )
                continue
            found = re.search(r"on (http://\S+)", line)
            if found:
                root = found.group(1)
                break
        assert root, "server did not report its address in time"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(root + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server never answered /healthz")
        yield root
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen[Any], patience: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``patience`` seconds; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


AUTHORS = ["Simon Assaf", "Salma Haddad", "José Martínez", "سلمى حداد", "Zoë Øberg"]
TAGS = ["Strikes", "Gaza", "Climate", "Housing", "NHS"]


def sample_record(i: int, **fields: object) -> dict[str, object]:
    """One realistic import record; i decides section, authors, tags and time."""
    published = datetime(2025, 1, 1, 9, 0, tzinfo=UTC) + timedelta(hours=7 * i)
    record: dict[str, object] = {
        "slug": f"story-{i}",
        "title": f"Story number {i} & the <strike> that won",
        "standfirst": f"What happened in story {i}",
        "body": f'<p>Paragraph one of {i}.</p><p>See <a href="/articles/story-{max(i - 1, 0)}">the '
        f'last one</a> <img src="/images/{i}.jpg" alt="photo {i}"></p>',
        "section": ("news", "comment")[i % 2],
        "issue": {"number": 2000 + i // 10, "pdf_url": f"https://pdf.test/{2000 + i // 10}.pdf"},
        "published": published.isoformat(),
        "authors": [AUTHORS[i % len(AUTHORS)]]
        + ([AUTHORS[(i + 1) % len(AUTHORS)]] if i % 4 == 0 else []),
        "tags": [TAGS[i % len(TAGS)], TAGS[(i * 3) % len(TAGS)]],
        "image": {"url": f"/images/lead-{i}.jpg", "caption": f"Lead {i}", "alt": "A crowd"},
    }
    record.update(fields)
    return record


def fill_store(
    store_path: Path, count: int, sections: tuple[str, ...] = ("news", "comment")
) -> None:
    """Put ``count`` sample articles in a store through the real validation path."""
    from syndicate.records import parse_record
    from syndicate.store import Store

    records = [parse_record(sample_record(i), sections) for i in range(count)]
    with Store.open(store_path) as store:
        store.upsert_articles(records, datetime.now(UTC))
