"""Slow clients: connections that never finish a request are closed, and serving goes on."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from syndicate.web.app import REQUEST_TIMEOUT
from tests.support import MINIMAL_CONFIG, fill_store, running_server, write_config

HELD = 200


def test_connections_without_a_complete_request_are_closed(tmp_path: Path):
    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 5)
    with running_server(config, "--workers", "1", "--no-fetch") as root:
        where = urlsplit(root)
        held: list[socket.socket] = []
        try:
            for i in range(HELD):
                sock = socket.create_connection((where.hostname, where.port), timeout=5)
                # Half a request: the request line and one header, never the blank line.
                sock.sendall(b"GET /feed.atom HTTP/1.1\r\nHost: slow\r\n")
                if i % 2:  # and some keep trickling a byte now and then
                    sock.sendall(b"X")
                held.append(sock)
            started = time.monotonic()
            # Serving goes on meanwhile.
            with urllib.request.urlopen(root + "/feed.atom", timeout=5) as response:
                assert response.status == 200
            deadline = started + REQUEST_TIMEOUT + 10
            open_ones = list(held)
            while open_ones and time.monotonic() < deadline:
                still = []
                for sock in open_ones:
                    sock.settimeout(0.05)
                    try:
                        if sock.recv(1024) == b"":
                            continue  # closed by the server
                    except TimeoutError:
                        pass
                    except OSError:
                        continue
                    still.append(sock)
                open_ones = still
                time.sleep(0.2)
            waited = time.monotonic() - started
            assert open_ones == [], f"{len(open_ones)} of {HELD} still open after {waited:.0f} s"
            assert waited < REQUEST_TIMEOUT + 10
        finally:
            for sock in held:
                sock.close()
