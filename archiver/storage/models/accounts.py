"""The viewer's tables: accounts, API tokens, the sign-in throttle (`archiver.accounts`, `archiver.web`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archiver.storage.models.base import Base


class User(Base):
    """Someone who signs in to the viewer: a `viewer` reads, an `editor` also decides rewrites.

    `password_hash` is `scrypt$N$r$p$SALT$HASH` (base64 parts), see `archiver.accounts`.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(Base):
    """A bearer token for the read-only JSON API; only its sha256 is kept (it is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginFailure(Base):
    """A failed sign-in, counted per account (`user:NAME`) and per address (`addr:IP`) over a window.

    In the database, so every server process behind a balancer throttles the same guesses.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "key", "failed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime]
