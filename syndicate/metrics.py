"""The server's figures for Prometheus, summed over every worker process.

``syndicate serve --workers N`` answers /metrics from whichever worker the
kernel hands the connection to; figures kept per process would show a
different part of the server on every scrape. prometheus-client's
multiprocess mode fixes that: each process writes its values to memory-mapped
files in one directory, and a scrape reads and sums them all (counters of
workers that died included, so a total never goes backwards when a worker is
replaced). The supervisor picks the directory before the first fork
(:func:`share_between_processes`); a process that never called it (a test's
in-process app, ``syndicate fetch``) keeps its figures in its own registry.

Most figures are counted where they happen by code that knows nothing of
Prometheus (the document cache's ``broken``, the door's ``announced``): a
:class:`Metrics` copies such running totals into its counters with
:meth:`Metrics.tally`, every second and before each scrape, so the hot paths
stay plain integer additions.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

# A "_created" timestamp beside every counter doubles the page for nothing a
# dashboard uses (multiprocess mode never shows them anyway).
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Where prometheus-client looks for the shared directory (its own name for it).
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds: a feed answer from memory takes well under a millisecond, a cold build tens.
REQUEST_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
BUILD_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def share_between_processes(directory: Path) -> None:
    """Make every metric made from now on (in this process and its forks) shared.

    Called by the supervisor before it forks a worker. The directory is
    emptied first: files left by an earlier server would add its totals to
    this one's. prometheus-client reads the environment when it is imported,
    so the value class is chosen again here, after the variable is set.
    """
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def shared_directory() -> Path | None:
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


def process_gone(pid: int) -> None:
    """A worker died: drop its live gauges (its counters stay in the totals)."""
    directory = shared_directory()
    if directory is not None:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


class Metrics:
    """One process's handles on the server's figures (one per app, never module-global)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "syndicate_http_requests",
            "HTTP requests answered, by route pattern and status (5xx included).",
            ["route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "syndicate_http_request_duration_seconds",
            "Time from the request's arrival at the handler to its response.",
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.feed_responses = Counter(
            "syndicate_feed_responses",
            "Feed and directory responses by HTTP status (304s are the conditional hits).",
            ["status"],
            registry=r,
        )
        self.builds = Counter(
            "syndicate_feed_builds",
            "Documents built (once per change, never per request).",
            registry=r,
        )
        self.build_seconds = Histogram(
            "syndicate_build_duration_seconds",
            "Time to build one document: query, render, compress.",
            buckets=BUILD_BUCKETS,
            registry=r,
        )
        self.broken_builds = Counter(
            "syndicate_broken_builds",
            "Built documents that did not parse (not served).",
            registry=r,
        )
        self.config_reloads = Counter(
            "syndicate_config_reloads",
            "Accepted config reloads by trigger.",
            ["trigger"],
            registry=r,
        )
        self.server_errors = Counter(
            "syndicate_server_errors",
            "Requests answered 500 because a handler raised.",
            registry=r,
        )
        self.malformed = Counter(
            "syndicate_malformed_requests",
            "Requests aiohttp's parser refused (400).",
            registry=r,
        )
        self.changes_announced = Counter(
            "syndicate_changes_announced",
            "Changes the change door announced (the leader worker only, so never twice).",
            registry=r,
        )
        self.fetches = Counter(
            "syndicate_fetches", "Outside-feed fetches by outcome.", ["outcome"], registry=r
        )
        self.purges = Counter(
            "syndicate_purges",
            "Purges of the cache in front, by target (varnish, command) and outcome.",
            ["target", "outcome"],
            registry=r,
        )
        self.purge_retries = Counter(
            "syndicate_purge_retries", "Purge attempts that failed and were retried.", registry=r
        )
        self.purge_keys = Counter(
            "syndicate_purge_keys", "Surrogate keys named in purges.", registry=r
        )
        self.websub_verifications = Counter(
            "syndicate_websub_verifications",
            "WebSub verifications of intent by outcome.",
            ["outcome"],
            registry=r,
        )
        self.websub_deliveries = Counter(
            "syndicate_websub_deliveries",
            "WebSub content deliveries to subscribers by outcome (the leader's).",
            ["outcome"],
            registry=r,
        )
        self.websub_announcements = Counter(
            "syndicate_websub_announcements",
            "Publish pings to the outside WebSub hub by outcome (the leader's).",
            ["outcome"],
            registry=r,
        )
        self.cached_documents = Gauge(
            "syndicate_feed_cache_feeds",
            "Documents held in memory, all workers.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.cached_bytes = Gauge(
            "syndicate_feed_cache_bytes",
            "Bytes held in memory, all codings, all workers.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.workers = Gauge(
            "syndicate_worker_up",
            "1 for each live process serving, by pid.",
            multiprocess_mode="liveall",
            registry=r,
        )
        self.workers.set(1)
        #: What :meth:`tally` last copied, per (counter, labels).
        self._copied: dict[tuple[int, tuple[str, ...]], float] = {}

    def tally(self, counter: Counter, total: float, *labels: str) -> None:
        """Bring ``counter`` (with ``labels``) up to a running total counted elsewhere."""
        key = (id(counter), labels)
        step = total - self._copied.get(key, 0.0)
        if step > 0:
            (counter.labels(*labels) if labels else counter).inc(step)
            self._copied[key] = total

    def tally_each(self, counter: Counter, totals: Mapping[str, float] | Mapping[int, int]) -> None:
        # A copy first: the WebSub pusher's thread may add an outcome meanwhile.
        for label, total in list(totals.items()):
            self.tally(counter, total, str(label))

    def exposition(self, extra: Iterable[str] = ()) -> bytes:
        """The text format: every process's figures when shared, else this one's."""
        directory = shared_directory()
        if directory is None:
            body = generate_latest(self.registry)
        else:
            combined = CollectorRegistry()
            MultiProcessCollector(combined, path=str(directory))  # type: ignore[no-untyped-call]
            body = generate_latest(combined)
        tail = "".join(line + "\n" for line in extra)
        return body + tail.encode()
