"""flask-websub 0.4.1's subscriber and hub, run as outside judges (tests/test_websub_judges.py).

    python tests/flask_websub_apps.py subscriber PORT TOPIC_PAGE OUT SECRET
    python tests/flask_websub_apps.py hub PORT REDIS_URL FOLDER

Each writes what it hears to OUT (JSON lines) or serves until killed. Two
things are changed in flask-websub, both said here and in README:

* Its subscriber refuses to send a secret to an ``http://`` hub (it would
  travel in clear), and loopback has no TLS here; the test lifts that check
  (``is_secure``) so the signature path is exercised.
* Its hub fetches the topic with ``requests`` (which asks for gzip) and copies
  the response's headers onto each delivery over the decoded body, so a
  subscriber would get ``Content-Encoding: gzip`` on plain bytes. The hub
  here asks for ``Accept-Encoding: identity``, which syndicate honours.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server


def _serve(app: Flask, port: int) -> None:
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def subscriber(port: int, page: str, out: Path, secret: str) -> None:
    import flask_websub.subscriber as fs
    from flask_websub.subscriber import (
        SQLite3SubscriberStorage,
        SQLite3TempSubscriberStorage,
        Subscriber,
        discover,
    )

    fs.is_secure = lambda url: True  # see the module docstring

    def note(**fields: Any) -> None:
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(fields) + "\n")

    app = Flask(__name__)
    app.config["SERVER_NAME"] = f"127.0.0.1:{port}"
    folder = out.parent
    sub = Subscriber(
        SQLite3SubscriberStorage(str(folder / "sub.db")),
        SQLite3TempSubscriberStorage(str(folder / "sub-temp.db")),
    )
    app.register_blueprint(sub.build_blueprint(url_prefix="/callbacks"))

    @sub.add_success_handler
    def verified(topic: str, callback_id: str, mode: str) -> None:
        note(event="verified", topic=topic, mode=mode)

    @sub.add_error_handler
    def failed(topic: str, callback_id: str, reason: str) -> None:
        note(event="error", topic=topic, reason=reason)

    @sub.add_listener
    def pushed(topic: str, callback_id: str, body: bytes) -> None:
        # Called only when X-Hub-Signature matched the secret (body_is_valid).
        note(event="push", topic=topic, sha256=hashlib.sha256(body).hexdigest(), size=len(body))

    threading.Thread(target=_serve, args=(app, port), daemon=True).start()
    with app.app_context():
        found = discover(page)
        note(event="discovered", **found)
        sub.subscribe(secret=secret, **found)
    threading.Event().wait()


def hub(port: int, redis_url: str, folder: Path) -> None:
    import requests
    from celery import Celery
    from flask_websub.hub import Hub, SQLite3HubStorage, tasks

    def identity(config: Any, topic_url: str) -> Any:  # see the module docstring
        response = requests.get(
            topic_url,
            headers={"Accept-Encoding": "identity"},
            timeout=config.get("REQUEST_TIMEOUT", 3),
            stream=True,
        )
        response.raise_for_status()
        return response

    tasks.get_content = identity
    celery = Celery("judge", broker=redis_url)
    celery.conf.update(broker_connection_retry_on_startup=True, worker_hijack_root_logger=False)
    app = Flask(__name__)
    # The endpoint reads these from the Flask app's config, not the Hub's.
    app.config.update(PUBLISH_SUPPORTED=True, HUB_MIN_LEASE_SECONDS=60)
    websub = Hub(SQLite3HubStorage(str(folder / "hub.db")), celery, BACKOFF_BASE=0.2)
    app.register_blueprint(websub.build_blueprint(url_prefix="/hub"))
    threading.Thread(target=_serve, args=(app, port), daemon=True).start()
    celery.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "--without-gossip"])


if __name__ == "__main__":
    role, port = sys.argv[1], int(sys.argv[2])
    if role == "subscriber":
        subscriber(port, sys.argv[3], Path(sys.argv[4]), sys.argv[5])
    else:
        hub(port, sys.argv[3], Path(sys.argv[4]))
