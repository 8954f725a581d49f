"""Operations: /metrics for the whole server, JSON log lines with request IDs, the access log."""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from syndicate import logs
from tests.support import MINIMAL_CONFIG, fill_store, stop_process, write_config


def get(root: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One GET on a fresh connection, so the kernel may hand it to any worker."""
    where = urlsplit(root)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def sample(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


class Server:
    """`syndicate serve` with standard error going to a file (read after it stops)."""

    def __init__(self, tmp_path: Path, config_text: str, *extra: str) -> None:
        self.config = write_config(tmp_path, config_text)
        fill_store(tmp_path / "store.db", 8)
        self.err_path = tmp_path / "stderr.log"
        self.err = self.err_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syndicate",
                "--config",
                str(self.config),
                "serve",
                "--port",
                "0",
                "--no-fetch",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"on (http://\S+)", line)
        assert found, line
        self.root = found.group(1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if get(self.root, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)

    def stop(self) -> list[str]:
        stop_process(self.proc)
        self.err.close()
        return self.err_path.read_text().splitlines()


def test_metrics_show_the_whole_server_whichever_worker_answers(tmp_path: Path):
    server = Server(tmp_path, MINIMAL_CONFIG, "--workers", "2")
    try:
        pids: set[str] = set()
        for _ in range(40):
            assert get(server.root, "/feed.atom")[0] == 200
        assert get(server.root, "/no/such/page")[0] == 404
        time.sleep(1.5)  # every worker copies its figures within a second
        totals: dict[str, float] = {}
        for _ in range(40):
            status, text = get(server.root, "/metrics")
            assert status == 200
            pid = re.search(r'syndicate_info\{[^}]*pid="(\d+)"', text)
            assert pid
            pids.add(pid.group(1))
            totals[pid.group(1)] = sample(
                text, 'syndicate_http_requests_total{route="/feed.{fmt}",status="200"}'
            )
            assert (
                sample(text, 'syndicate_http_requests_total{route="unmatched",status="404"}') == 1
            )
            assert len(re.findall(r"^syndicate_worker_up\{", text, re.M)) == 2
            assert sample(text, "syndicate_build_duration_seconds_count") >= 1
            if len(pids) == 2:
                break
        assert len(pids) == 2, "the kernel never handed a scrape to the second worker"
        # Both workers report the same total: all 40 requests, not their own share.
        assert set(totals.values()) == {40.0}, totals
    finally:
        server.stop()


def test_log_lines_are_json_with_the_request_id_when_not_a_terminal(tmp_path: Path):
    config = MINIMAL_CONFIG.replace("[store]", "[server]\naccess_log = true\n\n[store]")
    server = Server(tmp_path, config, "--workers", "1")
    try:
        assert get(server.root, "/feed.rss", {"X-Request-ID": "edge-42"})[0] == 200
        assert get(server.root, "/feed.json", {"X-Request-ID": "<bad id>"})[0] == 200
    finally:
        lines = server.stop()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    access = [r for r in records if r["logger"] == "syndicate.access"]
    by_path = {r["message"].split()[1]: r for r in access}
    assert by_path["/feed.rss"]["request_id"] == "edge-42"
    assert by_path["/feed.rss"]["level"] == "info"
    assert " 200 " in by_path["/feed.rss"]["message"]
    # An ID that does not look like one is replaced by one of our own.
    made = by_path["/feed.json"]["request_id"]
    assert made
    assert "<" not in made
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)


def test_without_the_access_log_requests_write_no_lines(tmp_path: Path):
    server = Server(tmp_path, MINIMAL_CONFIG, "--workers", "1")
    try:
        for _ in range(5):
            assert get(server.root, "/feed.atom")[0] == 200
    finally:
        lines = server.stop()
    assert not [line for line in lines if "syndicate.access" in line]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_human_lines_with_the_request_id():
    out = Terminal()
    handler = logs.setup(out)
    try:
        token = logs.REQUEST_ID.set("abc-1")
        logging.getLogger("syndicate.test").warning("disk %s", "full")
        logs.REQUEST_ID.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    line = out.getvalue().strip()
    assert line.endswith("WARNING syndicate.test: disk full [abc-1]")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_a_pipe_gets_one_json_object_per_line_with_the_traceback():
    out = io.StringIO()
    handler = logs.setup(out)
    try:
        try:
            raise ValueError('bad "quote"\nand a newline')
        except ValueError:
            logging.getLogger("syndicate.test").exception("it broke", extra={"source": 7})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "it broke"
    assert record["source"] == 7
    assert "ValueError" in record["error"]
