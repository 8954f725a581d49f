"""What the hub did, counted per process for /metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class HubCounts:
    #: Verifications of intent by outcome: verified, refused (wrong or no echo),
    #: failed (no answer), denied (a topic that is not ours), unsubscribed.
    verifications: Counter[str] = field(default_factory=Counter)
    #: Delivery attempts by outcome: delivered, retry, dropped, gone (410), skipped.
    deliveries: Counter[str] = field(default_factory=Counter)
    #: Announcements to an outside hub by outcome: sent, retry, dropped.
    announcements: Counter[str] = field(default_factory=Counter)
