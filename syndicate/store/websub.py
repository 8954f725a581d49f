"""The WebSub hub's memory: subscriptions, the deliveries owed, the announcements due.

Everything the built-in hub must not forget across a restart lives here
(migration 11): who subscribed to which topic until when, with which secret;
which bytes each subscriber is still owed; and, with an outside hub, which
topics still have to be announced to it. The delivery engine
(syndicate.websub) decides when and what; this module only keeps it. Every
method is synchronous SQL: call it in a thread.

Times are epoch seconds, read from the caller's clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from syndicate.store.core import Store


@dataclass(frozen=True)
class Subscription:
    id: int
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int
    since: float
    expires_at: float
    last_etag: str | None
    last_delivery_at: float | None
    last_status: str | None
    #: Whether a delivery is still owed to it.
    pending: bool = False


@dataclass(frozen=True)
class Owed:
    """One delivery due: to whom, and which bytes (by ETag) it was queued for."""

    subscription: Subscription
    etag: str
    attempts: int
    first_at: float


OutcomeKind = Literal["delivered", "retry", "dropped", "gone", "skipped"]


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery attempt, to be written with others in one go."""

    kind: OutcomeKind
    subscription_id: int
    #: The ETag the queue row held when it was picked (it may have moved on since).
    queued: str
    #: The ETag of the bytes actually sent (None when nothing was sent).
    sent: str | None
    status: str
    at: float
    attempts: int = 0
    due_at: float = 0.0


@dataclass(frozen=True)
class Announcement:
    topic: str
    hub: str
    pending: bool
    attempts: int
    first_at: float | None
    due_at: float | None
    last_at: float | None
    last_status: str | None


_SUBSCRIPTION = (
    "s.id, s.topic, s.callback, s.secret, s.lease_seconds, s.since, s.expires_at, "
    "s.last_etag, s.last_delivery_at, s.last_status"
)


def _subscription(row: tuple[object, ...], pending: bool = False) -> Subscription:
    return Subscription(*row[:10], pending)  # type: ignore[arg-type,call-arg]


class WebSubStore:
    """The hub's tables in one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- subscriptions -------------------------------------------------------------

    def subscribe(
        self, topic: str, callback: str, secret: str | None, lease_seconds: int, now: float
    ) -> None:
        """Add a verified subscription, or renew it (a new lease and secret, the rest kept)."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO websub_subscriptions "
                "(topic, callback, secret, lease_seconds, since, expires_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?5 + ?4) "
                "ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, "
                "lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at",
                (topic, callback, secret, lease_seconds, now),
            )

    def unsubscribe(self, topic: str, callback: str) -> bool:
        with self.store.transaction() as conn:
            gone = conn.execute(
                "DELETE FROM websub_subscriptions WHERE topic = ? AND callback = ?",
                (topic, callback),
            ).rowcount
        return gone > 0

    def expire(self, now: float) -> int:
        """Forget subscriptions whose lease ran out (their owed deliveries with them)."""
        with self.store.lock:
            found = self.store.rows(
                "SELECT 1 FROM websub_subscriptions WHERE expires_at <= ? LIMIT 1", (now,)
            )
        if not found:
            return 0
        with self.store.transaction() as conn:
            return conn.execute(
                "DELETE FROM websub_subscriptions WHERE expires_at <= ?", (now,)
            ).rowcount

    def subscriptions(self, topic: str | None = None) -> list[Subscription]:
        """Every subscription (or a topic's), live or expired, by topic then callback."""
        where = "WHERE s.topic = ?" if topic is not None else ""
        with self.store.lock:
            rows = self.store.rows(
                f"SELECT {_SUBSCRIPTION}, d.subscription_id IS NOT NULL "
                "FROM websub_subscriptions AS s "
                f"LEFT JOIN websub_deliveries AS d ON d.subscription_id = s.id {where} "
                "ORDER BY s.topic, s.callback",
                (topic,) if topic is not None else (),
            )
        return [_subscription(row, bool(row[10])) for row in rows]

    def count_live(self, now: float) -> int:
        with self.store.lock:
            return int(
                self.store.rows(
                    "SELECT COUNT(*) FROM websub_subscriptions WHERE expires_at > ?", (now,)
                )[0][0]
            )

    # -- deliveries ----------------------------------------------------------------

    def enqueue(self, topics: Iterable[tuple[str, str]], now: float) -> int:
        """Owe each live subscriber of each ``(topic, etag)`` those bytes; how many rows.

        A subscriber that already has these bytes (its last delivery had
        this ETag) is owed nothing; one still owed older bytes is owed these
        instead, retried from scratch.
        """
        added = 0
        with self.store.transaction() as conn:
            for topic, etag in topics:
                added += conn.execute(
                    "INSERT INTO websub_deliveries (subscription_id, etag, attempts, first_at, "
                    "due_at) SELECT id, ?2, 0, ?3, ?3 FROM websub_subscriptions "
                    "WHERE topic = ?1 AND expires_at > ?3 AND last_etag IS NOT ?2 "
                    "ON CONFLICT (subscription_id) DO UPDATE SET etag = excluded.etag, "
                    "attempts = 0, first_at = excluded.first_at, due_at = excluded.due_at "
                    "WHERE websub_deliveries.etag IS NOT excluded.etag",
                    (topic, etag, now),
                ).rowcount
        return added

    def due(self, now: float, busy: Iterable[int] = (), limit: int = 1000) -> list[Owed]:
        """Deliveries due by ``now`` to live subscribers, oldest first, except ``busy`` ones."""
        skip = set(busy)
        with self.store.lock:
            rows = self.store.rows(
                f"SELECT {_SUBSCRIPTION}, d.etag, d.attempts, d.first_at "
                "FROM websub_deliveries AS d "
                "JOIN websub_subscriptions AS s ON s.id = d.subscription_id "
                "WHERE d.due_at <= ? AND s.expires_at > ? ORDER BY d.due_at LIMIT ?",
                (now, now, limit + len(skip)),
            )
        owed = [Owed(_subscription(row, True), row[10], row[11], row[12]) for row in rows]
        return [o for o in owed if o.subscription.id not in skip][:limit]

    def next_due(self, after: float) -> float | None:
        """When the next delivery after ``after`` comes due (a retry), or None."""
        with self.store.lock:
            found = self.store.rows(
                "SELECT MIN(due_at) FROM websub_deliveries WHERE due_at > ?", (after,)
            )
        return None if found[0][0] is None else float(found[0][0])

    def record(self, outcomes: Iterable[Outcome]) -> None:
        """Write what became of many attempts in one transaction.

        Every change to a queue row is conditional on the ETag it held when
        picked: if newer bytes were queued meanwhile, that row stays owed.
        """
        with self.store.transaction() as conn:
            for o in outcomes:
                if o.kind == "gone":
                    conn.execute(
                        "DELETE FROM websub_subscriptions WHERE id = ?", (o.subscription_id,)
                    )
                    continue
                if o.kind == "retry":
                    conn.execute(
                        "UPDATE websub_deliveries SET attempts = ?, due_at = ? "
                        "WHERE subscription_id = ? AND etag = ?",
                        (o.attempts, o.due_at, o.subscription_id, o.queued),
                    )
                else:
                    conn.execute(
                        "DELETE FROM websub_deliveries WHERE subscription_id = ? AND etag = ?",
                        (o.subscription_id, o.queued),
                    )
                if o.kind == "skipped":
                    continue
                conn.execute(
                    "UPDATE websub_subscriptions SET last_delivery_at = ?, last_status = ?, "
                    "last_etag = CASE WHEN ? IS NULL THEN last_etag ELSE ? END WHERE id = ?",
                    (o.at, o.status, o.sent, o.sent, o.subscription_id),
                )

    # -- announcements to an outside hub --------------------------------------------

    def announce(self, topics: Iterable[str], hub: str, now: float) -> None:
        """Owe the outside hub an announcement of each topic (one pending per topic)."""
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO websub_announcements (topic, hub, pending, attempts, first_at, "
                "due_at) VALUES (?, ?, 1, 0, ?, ?) ON CONFLICT (topic) DO UPDATE SET "
                "hub = excluded.hub, pending = 1, attempts = 0, first_at = excluded.first_at, "
                "due_at = excluded.due_at",
                [(topic, hub, now, now) for topic in topics],
            )

    def announcements(self, *, due_by: float | None = None) -> list[Announcement]:
        """Every announcement row, or only the pending ones due by ``due_by``."""
        sql = (
            "SELECT topic, hub, pending, attempts, first_at, due_at, last_at, last_status "
            "FROM websub_announcements"
        )
        params: tuple[float, ...] = ()
        if due_by is not None:
            sql += " WHERE pending = 1 AND due_at <= ?"
            params = (due_by,)
        with self.store.lock:
            rows = self.store.rows(sql + " ORDER BY topic", params)
        return [Announcement(r[0], r[1], bool(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def announced(
        self,
        topic: str,
        first_at: float | None,
        *,
        status: str,
        at: float,
        done: bool,
        attempts: int,
        due_at: float | None,
    ) -> None:
        """Record an announcement's outcome; ``done`` (sent or given up) clears it.

        Conditional on ``first_at``: a topic queued again meanwhile stays owed.
        """
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE websub_announcements SET last_at = ?, last_status = ?, "
                "pending = CASE WHEN first_at IS ? THEN ? ELSE pending END, "
                "attempts = CASE WHEN first_at IS ? THEN ? ELSE attempts END, "
                "due_at = CASE WHEN first_at IS ? THEN ? ELSE due_at END WHERE topic = ?",
                (
                    at,
                    status,
                    first_at,
                    0 if done else 1,
                    first_at,
                    attempts,
                    first_at,
                    due_at,
                    topic,
                ),
            )
