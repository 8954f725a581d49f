"""Sessions, CSRF tokens and login rate limits for the admin area: pure functions.

Nothing here reads the clock, the store or a request: callers pass ``now``
(seconds since the epoch) and the signing secret, so every rule can be tested
at any moment and with any key. The HTTP side lives in ``syndicate.web.admin``.

Sessions are stateless: a cookie holding the editor's name, when their
account was created, an expiry and a random nonce, signed with HMAC-SHA256
under the store's shared secret (``Accounts.secret("session")``), so every
worker process accepts every other's cookies. Because the admin checks on each
request that an editor of that name *and creation time* still exists, removing
an editor (or removing and re-adding the name) ends their sessions at once.

CSRF protection has two shapes:

* logged in: the form token is an HMAC of the session cookie under a
  separate purpose label, so it is valid only alongside that cookie and a
  page from another site can neither read nor compute it;
* the login form (no session yet): a signed double-submit token. A random
  nonce goes in its own HttpOnly cookie and the form carries HMAC(nonce);
  a forged form would need both, and cannot read or set our cookies.

Every comparison of a secret value uses ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from syndicate.documents.headers import content_security_policy

#: How long a login lasts. A working day, so an editor logs in about once a day.
SESSION_TTL: Final = 12 * 3600
#: The session cookie: Path=/admin, HttpOnly, SameSite=Strict (Secure over https).
SESSION_COOKIE: Final = "syndicate_admin"
#: The login form's double-submit nonce: Path=/admin/login, HttpOnly, SameSite=Strict.
LOGIN_COOKIE: Final = "syndicate_login"
#: How long a login form stays usable.
LOGIN_TTL: Final = 3600
#: Anything longer is not one of our tokens; rejected before any work.
MAX_TOKEN: Final = 1024

_SESSION: Final = b"syndicate-session-v1\x00"
_CSRF: Final = b"syndicate-csrf-v1\x00"
_LOGIN: Final = b"syndicate-login-v1\x00"
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,1024}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: bytes, message: str) -> str:
    return _b64(hmac.new(secret, purpose + message.encode("ascii"), hashlib.sha256).digest())


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two ASCII tokens (False for anything else)."""
    try:
        return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
    except UnicodeEncodeError:
        return False


# -- sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """What a valid session cookie says."""

    name: str
    #: The account's creation stamp: a removed and re-added name gets new sessions.
    since: str
    expires: int
    nonce: str


def issue_session(
    secret: bytes, name: str, since: str, now: float, *, ttl: int = SESSION_TTL
) -> str:
    """A signed session token for ``name``, valid for ``ttl`` seconds from ``now``."""
    payload = json.dumps(
        [1, name, since, int(now) + ttl, secrets.token_urlsafe(16)], separators=(",", ":")
    )
    body = _b64(payload.encode("utf-8"))
    return f"{body}.{_mac(secret, _SESSION, body)}"


def read_session(secret: bytes, token: str | None, now: float) -> Session | None:
    """The session in a cookie, or None if it is missing, forged, malformed or expired.

    The signature is checked before the payload is decoded, so nothing an
    outsider writes is ever parsed.
    """
    if not token or len(token) > MAX_TOKEN:
        return None
    body, dot, mac = token.partition(".")
    if not dot or not _TOKEN_RE.fullmatch(body) or not _TOKEN_RE.fullmatch(mac):
        return None
    if not _same(mac, _mac(secret, _SESSION, body)):
        return None
    try:
        version, name, since, expires, nonce = json.loads(_unb64(body))
    except (ValueError, TypeError, binascii.Error):
        return None
    if version != 1 or not isinstance(expires, int) or expires <= now:
        return None
    if not all(isinstance(v, str) for v in (name, since, nonce)):
        return None
    return Session(name, since, expires, nonce)


def csrf_token(secret: bytes, session_token: str) -> str:
    """The token logged-in forms carry: bound to this session cookie and no other."""
    return _mac(secret, _CSRF, session_token)


def check_csrf(secret: bytes, session_token: str, submitted: str | None) -> bool:
    return submitted is not None and _same(submitted, csrf_token(secret, session_token))


# -- the login form (no session yet) ----------------------------------------------


def login_nonce(existing: str | None = None) -> str:
    """The login cookie's nonce: the one the browser has if well formed (so two open
    login tabs both work), else a new random one."""
    if existing and len(existing) <= 64 and _TOKEN_RE.fullmatch(existing):
        return existing
    return secrets.token_urlsafe(24)


def login_token(secret: bytes, nonce: str) -> str:
    """The login form's hidden token: HMAC of the nonce in the login cookie."""
    return _mac(secret, _LOGIN, nonce)


def check_login_token(secret: bytes, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted or len(nonce) > MAX_TOKEN or not _TOKEN_RE.fullmatch(nonce):
        return False
    return _same(submitted, login_token(secret, nonce))


# -- rate limiting ----------------------------------------------------------------


@dataclass
class RateLimiter:
    """At most ``limit`` failed logins per ``window`` seconds for each key.

    Keys are the client's address and the name tried, so one address cannot
    guess many passwords, and many addresses cannot guess one editor's. The
    memory is per worker process (so with N workers an attacker gets up to N
    times the limit) and bounded: at most ``max_keys`` keys are remembered,
    oldest dropped first.
    """

    limit: int = 5
    window: float = 300.0
    max_keys: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, keys: list[str], now: float) -> int | None:
        """Seconds until any of ``keys`` may try again, or None if all may now."""
        waits = [
            times[0] + self.window - now
            for key in keys
            if len(times := self._recent(key, now)) >= self.limit
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            self._recent(key, now)
            self._failures.setdefault(key, deque()).append(now)
            self._failures[key] = self._failures.pop(key)  # most recent last
        while len(self._failures) > self.max_keys:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)


def limit_keys(address: str | None, name: str) -> list[str]:
    """The rate-limit keys of one login attempt: its client address and the name tried."""
    return [f"ip:{address or 'unknown'}", f"name:{name.strip().lower()[:64]}"]


# -- response headers ---------------------------------------------------------------


def security_headers(html: str = "") -> dict[str, str]:
    """Headers on every admin response: never cached, never framed, no scripts."""
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": content_security_policy(html, form_action="'self'"),
    }


def secure_cookies(base_url: str) -> bool:
    """Cookies get the Secure flag when the site is served over https."""
    return base_url.lower().startswith("https://")
