"""Password hashing with scrypt (stdlib), in a self-describing string.

scrypt is memory-hard, which is what slows down guessing on stolen hashes;
it ships with Python's hashlib, so no extra dependency. The parameters live in
the stored string, so they can be raised later without breaking old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 2**15 * 8 * 128 bytes = 32 MiB per hash; about 50-100 ms on this machine kind.
N, R, P = 2**15, 8, 1
MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=N, r=R, p=P, maxmem=MAXMEM, dklen=32
    )
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash (False if malformed)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


#: Checked against when the user does not exist, so a wrong name costs the
#: same time as a wrong password and timing does not reveal who has an account.
DUMMY_HASH = hash_password("not a real password", salt=b"syndicate-dummy!")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"a password must have at least {MIN_LENGTH} characters"
    return None


def new_token() -> str:
    """A bearer token for the publishing API: 256 random bits, URL-safe."""
    return "syn_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
