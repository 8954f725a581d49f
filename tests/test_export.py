"""``syndicate export``: the files are the server's bytes, kept current, and nginx serves them.

The export is compared with a running app on loopback, document by document
and coding by coding; ``--watch`` runs as its own process while another
connection publishes, and must rewrite exactly the files of the documents
that changed (heads and the current month of the feeds holding the article,
and the directory) within a second; a real nginx with the shipped
deploy/nginx/export.conf serves the export with the right types, codings,
cache headers and 304s, and sends what is not exported to the origin.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import pytest

from syndicate.catalog import FORMATS, archive_path, feed_path
from syndicate.config import Config, parse_config
from syndicate.export.files import MANIFEST, manifest_of
from syndicate.models import SITE, Scope
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.web.app import make_app
from tests.support import (
    MINIMAL_CONFIG,
    running_server,
    sample_record,
    stop_process,
    write_config,
)
from tests.test_archives import SECTIONS, fill

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "deploy" / "nginx" / "export.conf"
NEWS = Scope("section", "news")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill(tmp_path / "store.db")
    return parse_config(path.read_text(), path)


def export(config: Config, target: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "syndicate", "--config", str(config.source), "export", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def decoded(data: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "br":
        return bytes(brotli.decompress(data))
    return data


async def test_the_export_is_byte_for_byte_what_the_server_sends(
    aiohttp_client: Any, config: Config, tmp_path: Path
):
    target = tmp_path / "export"
    done = export(config, target)
    assert "documents" in done.stdout
    assert "Exporting" not in done.stderr, "no progress bar off a terminal"
    documents = manifest_of(target)["documents"]
    expected = {"/feeds", "/feeds.opml", "/latest-news.json"}
    for scope in (SITE, NEWS):
        expected |= {feed_path(scope, fmt) for fmt in FORMATS}
        expected |= {archive_path(scope, fmt, m) for fmt in FORMATS for m in ("2025-03", "2024-11")}
    assert expected <= set(documents), sorted(expected - set(documents))
    assert not any("?" in path for path in documents), "pages are left to the origin"
    assert "/latest-news" not in documents, "the sidebar HTML expires every minute"

    client = await aiohttp_client(make_app(config), auto_decompress=False)
    for path, entry in documents.items():
        identity = (target / entry["file"]).read_bytes()
        response = await client.get(path, headers={"Accept-Encoding": "identity"})
        assert response.status == 200, path
        assert await response.read() == identity, path
        assert response.headers["Content-Type"] == entry["content_type"], path
        assert response.headers["ETag"] == entry["etag"], path
        assert response.headers["Cache-Control"] == entry["headers"]["Cache-Control"], path
        if entry["last_modified"]:
            assert response.headers["Last-Modified"] == entry["last_modified"], path
            mtime = os.stat(target / entry["file"]).st_mtime
            assert datetime.fromtimestamp(mtime, UTC).strftime("%H:%M:%S") in entry["last_modified"]
        for coding, name in entry["encodings"].items():
            data = (target / name).read_bytes()
            assert decoded(data, coding) == identity, (path, coding)
            response = await client.get(path, headers={"Accept-Encoding": coding})
            assert response.headers["Content-Encoding"] == coding
            assert await response.read() == data, (path, coding)
    assert not list(target.rglob("*.partial")), "a temporary file was left behind"
    # A second export finds every file as it is, and writes none.
    again = export(config, target)
    assert " 0 files written" in again.stdout, again.stdout


@contextmanager
def watching(config: Config, target: Path) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-m", "syndicate", "--config", str(config.source), "export"]
    proc = subprocess.Popen(
        [*argv, str(target), "--watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            if line.startswith("watching"):
                break
        else:
            raise AssertionError("the exporter never started watching")
        yield proc
    finally:
        stop_process(proc)


def inodes(target: Path) -> dict[str, int]:
    """Each file's inode: a file replaced by rename has a new one."""
    return {
        str(p.relative_to(target)): p.stat().st_ino
        for p in target.rglob("*")
        if p.is_file() and p.name != MANIFEST and ".nginx" not in p.parts
    }


def test_watch_rewrites_only_the_files_a_publish_changed_within_a_second(
    config: Config, tmp_path: Path
):
    target = tmp_path / "export"
    with watching(config, target) as proc:
        before = inodes(target)
        record = sample_record(0, slug="late-news", published="2025-03-30T12:00:00Z")
        record.update(authors=["Simon Assaf"], tags=["Gaza"])
        written = time.monotonic()
        with Store.open(config.store_path) as store:
            store.upsert_articles([parse_record(record, SECTIONS)], datetime.now(UTC))
        assert proc.stdout is not None
        line = proc.stdout.readline()
        took = time.monotonic() - written
        found = re.match(r"(\d+) files rewritten", line)
        assert found, line
        after = inodes(target)
    scopes = [SITE, NEWS, Scope("author", "simon-assaf"), Scope("tag", "gaza")]
    scopes.append(Scope("issue", "2000"))
    documents = {"/feeds", "/feeds.opml"}
    for scope in scopes:
        documents |= {feed_path(scope, fmt) for fmt in FORMATS}
        documents |= {archive_path(scope, fmt, "2025-03") for fmt in FORMATS}
    files = {path.lstrip("/") + suffix for path in documents for suffix in ("", ".gz", ".br")}
    rewritten = {name for name in after if before.get(name) != after[name]}
    assert rewritten == files, sorted(rewritten ^ files)
    assert int(found.group(1)) == len(files)
    assert took < 1.0, f"{took:.2f} s from the publish to the files"
    # Stopped (SIGTERM), the exporter wrote the manifest for what it rewrote.
    manifest = manifest_of(target)["documents"]
    with (target / "feed.atom").open("rb") as atom:
        assert b"late-news" in atom.read()
    with Store.open(config.store_path) as store:
        row = store.conn.execute("SELECT etag FROM documents WHERE path = '/feed.atom'").fetchone()
    assert manifest["/feed.atom"]["etag"] == row[0]


# -- nginx ---------------------------------------------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

MAIN_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/export.conf;
}}
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shipped_config(export_dir: Path, origin: str, port: int) -> str:
    """deploy/nginx/export.conf as shipped, with this test's paths and ports put in."""
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in (
        ("/srv/syndicate/export", str(export_dir)),
        ("127.0.0.1:8080", origin.removeprefix("http://")),
        ("listen 8081;", f"listen 127.0.0.1:{port};"),
    ):
        assert old in text, f"the shipped config no longer says {old!r}"
        text = text.replace(old, new)
    return text


@contextmanager
def nginx_serving(folder: Path, export_dir: Path, origin: str) -> Iterator[str]:
    assert NGINX is not None
    port = free_port()
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
    (folder / "export.conf").write_text(shipped_config(export_dir, origin, port))
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN_CONF.format(user=user, dir=folder))
    argv = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert proc.poll() is None, (folder / "error.log").read_text()
            try:
                urllib.request.urlopen(root + "/feeds", timeout=2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield root
    finally:
        stop_process(proc)


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx)")
def test_nginx_serves_the_export_with_the_shipped_config(tmp_path: Path):
    port = free_port()
    text = MINIMAL_CONFIG.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    config = parse_config(text, write_config(tmp_path, text))
    fill(tmp_path / "store.db")
    target = tmp_path / "export"
    export(config, target)
    documents = manifest_of(target)["documents"]
    with (
        running_server(
            config.source, "--port", str(port), "--workers", "1", "--no-fetch"
        ) as origin,
        nginx_serving(tmp_path / "nginx", target, origin) as root,
    ):
        for path, entry in documents.items():
            identity = (target / entry["file"]).read_bytes()
            for coding in ("identity", "gzip", "br"):
                status, headers, body = fetch(root + path, **{"Accept-Encoding": coding})
                assert status == 200, (path, coding)
                assert headers["Content-Type"] == entry["content_type"], path
                assert headers["Vary"] == "Accept-Encoding", path
                assert headers.get("Content-Encoding", "identity") == coding, (path, coding)
                assert decoded(body, coding) == identity, (path, coding)
                assert headers["Cache-Control"] == entry["headers"]["Cache-Control"], path
                assert "X-Export" not in headers, f"{path} went to the origin"
                etag = headers["ETag"]
                status, again, _ = fetch(
                    root + path, **{"Accept-Encoding": coding, "If-None-Match": etag}
                )
                assert status == 304, (path, coding)
                assert again["ETag"] == etag
                since = headers["Last-Modified"]
                status, _, _ = fetch(root + path, **{"If-Modified-Since": since})
                assert status == 304, path
        # Both codings offered: br, as the origin prefers; gzip refused with q=0.
        _, headers, _ = fetch(root + "/feed.atom", **{"Accept-Encoding": "gzip, deflate, br"})
        assert headers["Content-Encoding"] == "br"
        _, headers, _ = fetch(root + "/feed.atom", **{"Accept-Encoding": "gzip;q=0, identity"})
        assert "Content-Encoding" not in headers
        closed = root + archive_path(SITE, "rss", "2024-11")
        assert "immutable" in fetch(closed)[1]["Cache-Control"]
        _, headers, _ = fetch(root + "/feeds")
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["X-Frame-Options"] == "DENY"
        _, headers, _ = fetch(root + "/latest-news.json")
        assert headers["Access-Control-Allow-Origin"] == "*"
        # What is not exported is the origin's: pages, article previews, unknown feeds.
        status, headers, body = fetch(root + "/feed.atom?page=2")
        assert status == 200
        assert headers["X-Export"] == "origin"
        assert b"page=2" in body
        assert fetch(root + "/articles/story-1")[0] == 200
        assert fetch(root + "/tags/no-such-tag/feed.atom")[0] == 404
        assert fetch(root + "/export-manifest.json")[0] == 404
        assert fetch(root + "/.nginx/headers.map")[0] == 404
    assert json.loads((target / MANIFEST).read_text())["version"] == 1
