"""Session cookies, CSRF tokens and the login throttle's rules for the admin area.

Nothing here reads the clock, the store or a request: callers pass what they
have, so every rule can be tested on its own. The HTTP side lives in
``syndicate.web.admin``; sessions and failure counts are kept in the store
(``syndicate.store.accounts``), so every worker process shares them.

Sessions are records in the store, not signed cookies: the cookie carries a
random 256-bit token, the store keeps its SHA-256 with the editor and an
expiry. Logging out deletes the record, so a copied or replayed cookie is
refused from then on; changing an editor's password or removing them deletes
all of theirs. A cookie that is not even shaped like one of our tokens is
refused before the store is asked.

CSRF protection has two shapes:

* logged in: the form token is an HMAC of the session token under the store's
  shared secret (``Accounts.secret("session")``), so it is valid only
  alongside that cookie and a page from another site can neither read nor
  compute it;
* the login form (no session yet): a signed double-submit token. A random
  nonce goes in its own HttpOnly cookie and the form carries HMAC(nonce);
  a forged form would need both, and cannot read or set our cookies.

Every comparison of a secret value uses ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
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

_CSRF: Final = b"syndicate-csrf-v1\x00"
_LOGIN: Final = b"syndicate-login-v1\x00"
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,1024}")
#: A session token as the store issues them (token_urlsafe(32): 43 characters).
_SESSION_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{32,128}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, purpose: bytes, message: str) -> str:
    return _b64(hmac.new(secret, purpose + message.encode("ascii"), hashlib.sha256).digest())


def _same(a: str, b: str) -> bool:
    """Constant-time equality of two ASCII tokens (False for anything else)."""
    try:
        return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
    except UnicodeEncodeError:
        return False


# -- sessions --------------------------------------------------------------------


def session_token(cookie: str | None) -> str | None:
    """The cookie's value if it is shaped like a session token, else None (never looked up)."""
    if cookie and _SESSION_TOKEN_RE.fullmatch(cookie):
        return cookie
    return None


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


# -- the login throttle ------------------------------------------------------------

#: The throttle's window, in seconds: a key's count starts at its first failed
#: login and is forgotten this long after it.
LOGIN_WINDOW: Final = 15 * 60
#: Failed logins allowed per window from one client address (an IPv6 client's
#: /64), whatever names they try: slows one machine guessing many accounts.
ADDRESS_LIMIT: Final = 20
#: Failed logins allowed per window for one name from one address: slows one
#: machine guessing one editor's password, and is what the editor meets after
#: mistyping it five times.
NAME_LIMIT: Final = 5


@dataclass(frozen=True)
class LoginKey:
    """One count of the login throttle: a key, and how many failures it allows per window."""

    key: str
    limit: int
    #: Whether a successful login clears the key's count (else it takes back its own attempt).
    cleared_by_success: bool = False


def client_network(address: str | None) -> str:
    """The address a client is counted under: itself, or for IPv6 its /64.

    One IPv6 host is usually given a whole /64, so counting single IPv6
    addresses would give it 2**64 fresh allowances. An IPv4 address mapped
    into IPv6 counts as itself.
    """
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


def limit_keys(
    address: str | None,
    name: str,
    *,
    address_limit: int = ADDRESS_LIMIT,
    name_limit: int = NAME_LIMIT,
) -> list[LoginKey]:
    """The throttle's counts one login attempt is held to: its address, and address + name.

    Never the name alone: failures from elsewhere must not lock the editor
    out, so the right password from an address that has not failed is let
    through. A successful login clears its address + name count and takes
    its own attempt back from the address count.
    """
    where = client_network(address)
    who = name.strip().lower()[:64]
    return [
        LoginKey(f"addr:{where}", address_limit),
        LoginKey(f"addr+name:{where} {who}", name_limit, cleared_by_success=True),
    ]


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
