"""The SQLite article store: schema, migrations, writes and the feed queries."""

from syndicate.store.core import (
    SIDEBAR,
    SITE,
    Outcome,
    Scope,
    ScopeKind,
    Store,
    StoreError,
    connect,
    open_store,
)
from syndicate.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "SIDEBAR",
    "SITE",
    "Outcome",
    "Scope",
    "ScopeKind",
    "Store",
    "StoreError",
    "connect",
    "open_store",
]
