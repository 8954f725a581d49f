"""The floor for bench_http.py: aiohttp serving feed files from a dict, nothing else.

    python bench/bare_app.py ROOT --port 8081 --workers 2

Loads every file under ROOT (``X`` and its precompressed ``X.gz``) and answers
GET /X with: a dict lookup, Content-Type, a strong ETag (sha256 of the bytes),
If-None-Match -> 304, and Accept-Encoding gzip -> the .gz bytes. N forked
worker processes share the port with SO_REUSEPORT, as `syndicate serve` does.
"""

import argparse
import hashlib
import os
import signal
from pathlib import Path

from aiohttp import web

TYPES = {".atom": "application/atom+xml", ".rss": "application/rss+xml"}
TYPES |= {".json": "application/feed+json", ".opml": "text/x-opml"}


def load(root: Path) -> dict[str, tuple[str, str, bytes, bytes | None]]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".gz"):
        body, gz = path.read_bytes(), path.with_name(path.name + ".gz")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        kind = TYPES.get(path.suffix, "application/octet-stream") + "; charset=utf-8"
        packed = gz.read_bytes() if gz.exists() else None
        files["/" + str(path.relative_to(root))] = (kind, etag, body, packed)
    return files


def make_app(files: dict[str, tuple[str, str, bytes, bytes | None]]) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        found = files.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        kind, etag, body, gz = found
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"Content-Type": kind, "ETag": etag, "Vary": "Accept-Encoding"}
        if gz is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=gz, headers=headers)
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    app = make_app(load(args.root))
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            web.run_app(app, host=args.host, port=args.port, reuse_port=True, access_log=None)
            os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(pid, signal.SIGTERM) for pid in children])
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
