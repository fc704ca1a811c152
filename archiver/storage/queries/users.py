"""Queries of the viewer's accounts: users, API tokens and failed sign-ins (`archiver.accounts`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from archiver.storage.models import ApiToken, LoginFailure, User


def user_named(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def add_user(session: Session, name: str, role: str, password_hash: str, now: datetime) -> User:
    user = User(name=name, role=role, password_hash=password_hash, created_at=now)
    session.add(user)
    session.flush()
    return user


def remove_user(session: Session, name: str) -> bool:
    user = user_named(session, name)
    if user is None:
        return False
    session.delete(user)
    session.flush()
    return True


def add_token(session: Session, user: User, digest: str, note: str, now: datetime) -> ApiToken:
    token = ApiToken(user=user, token_sha256=digest, note=note, created_at=now)
    session.add(token)
    session.flush()
    return token


def token_with_digest(session: Session, digest: str) -> ApiToken | None:
    return session.scalars(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_sha256 == digest)
    ).one_or_none()


def all_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)).all()


def remove_token(session: Session, token_id: int) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    session.delete(token)
    session.flush()
    return True


def failures_since(session: Session, key: str, since: datetime) -> int:
    stmt = select(func.count(LoginFailure.id)).where(LoginFailure.key == key, LoginFailure.failed_at > since)
    return int(session.scalar(stmt) or 0)


def add_failure(session: Session, key: str, now: datetime) -> None:
    session.add(LoginFailure(key=key, failed_at=now))
    session.flush()


def clear_failures(session: Session, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == key))


def forget_failures_before(session: Session, before: datetime) -> None:
    """Old failures no longer count; drop them so the table stays small."""
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= before))
