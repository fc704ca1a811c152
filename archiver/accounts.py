"""The viewer's accounts: password hashes, API tokens, the sign-in throttle and the session secret.

    hash_password(text) / verify_password(text, stored)   scrypt, memory-hard, salt and cost in the string
    new_api_token() / token_digest(token)                 a token is shown once; only its sha256 is kept
    LoginThrottle                                          failures per account and per address, in the DB
    session_secret(settings, env) / write_secret_file(p)  what signs the viewer's session cookies

Roles: a `viewer` reads everything; an `editor` also decides rewrites (approve, reject, restore).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from archiver.config import WebSettings
from archiver.errors import ConfigError, UsageError
from archiver.storage.queries import users as user_queries

VIEWER = "viewer"
EDITOR = "editor"
ROLES = (VIEWER, EDITOR)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10

# scrypt cost: N=2**15, r=8 takes 32 MiB and about 0.1 s per guess on one core.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
TOKEN_PREFIX = "ea_"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: scrypt needs 128 * r * n bytes, and OpenSSL's default cap (32 MiB) is just below that.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * r * n + 1024 * 1024, dklen=_KEY_BYTES
    )


def hash_password(password: str, n: int = _SCRYPT_N) -> str:
    """`scrypt$N$r$p$SALT$KEY`: the parameters travel with the hash, so they can be raised later (and
    tests can make cheap ones with a smaller `n`)."""
    salt = os.urandom(_SALT_BYTES)
    key = _scrypt(password, salt, n, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` gives `stored`; a malformed stored hash never matches."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return False
    if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), key)


# A hash checked when the account does not exist, so a missing name costs the same time as a wrong password.
_DECOY_SALT = b"embed-archiver-decoy-salt"


def burn_decoy_hash(password: str) -> None:
    _scrypt(password, _DECOY_SALT, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")


def check_user_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise UsageError(
            f"{name!r} is not a user name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a "
            "letter or digit"
        )


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens carry 256 random bits, so a plain sha256 is enough to keep them unguessable at rest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- sign-in throttle


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """At most `per_account` failures for one name and `per_address` from one address per `window`."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass
class LoginThrottle:
    policy: ThrottlePolicy

    @staticmethod
    def keys(name: str, address: str) -> tuple[str, str]:
        return f"user:{name.lower()[:100]}", f"addr:{address[:100]}"

    def blocked(self, session: Session, name: str, address: str, now: datetime) -> bool:
        """Whether this name or address has failed too often lately (then not even the password is tried)."""
        account, place = self.keys(name, address)
        since = now - self.policy.window
        return (
            user_queries.failures_since(session, account, since) >= self.policy.per_account
            or user_queries.failures_since(session, place, since) >= self.policy.per_address
        )

    def failed(self, session: Session, name: str, address: str, now: datetime) -> None:
        for key in self.keys(name, address):
            user_queries.add_failure(session, key, now)
        user_queries.forget_failures_before(session, now - self.policy.window)

    def succeeded(self, session: Session, name: str, address: str) -> None:
        """A right password clears the account's failures (the address keeps its count)."""
        user_queries.clear_failures(session, self.keys(name, address)[0])


# ---------------------------------------------------------------- the session secret


def session_secret(web: WebSettings, env: Mapping[str, str]) -> bytes:
    """The secret from `web.secret_env` when set, else the contents of `web.secret_file`; never a constant."""
    from_env = env.get(web.secret_env, "")
    if from_env:
        if len(from_env) < 32:
            raise ConfigError(f"{web.secret_env} is shorter than 32 characters: too weak to sign sessions")
        return from_env.encode("utf-8")
    try:
        data = web.secret_file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no session secret: set {web.secret_env} or create {web.secret_file} with `archive init`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the session secret {web.secret_file}: {exc.strerror}") from None
    if len(data.strip()) < 32:
        raise ConfigError(f"the session secret {web.secret_file} is shorter than 32 bytes")
    return data.strip()


def write_secret_file(path: Path) -> bool:
    """Write 32 random bytes (hex) to `path`, readable by its owner only; False when it exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True
