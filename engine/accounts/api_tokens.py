"""API tokens (接口令牌) for other systems — the "防返贫监测" APP, the 12317 platform, department systems —
to call the JSON API as one user, with that user's roles and jurisdiction. Only the SHA-256 of a token is
stored: the plaintext is shown once, when it is issued."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from sqlalchemy import select

from engine.core import audit
from engine.core.db import db
from engine.core.errors import NotFound, RuleViolation
from engine.core.models import ApiToken, User
from engine.core.transaction import transaction
from timers.calendar import CHINA_TZ as CST

log = logging.getLogger(__name__)

TOKEN_PREFIX = "fp_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, label: str, now: datetime, actor: str | None = None) -> str:
    """Create a token acting as ``user``; return its plaintext (the only time it is available).
    ``actor`` is who issued it (an administrator; default: the user)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction():
        row = ApiToken(user_id=user.id, token_sha256=_digest(token), label=label.strip()[:100], created_at=now)
        db.session.add(row)
        db.session.flush()
        audit.record(now, actor or user.username, "api_token_issued", token_id=row.id, user=user.username,
                     label=row.label)
    log.info("API token %s issued for %s (%s)", row.id, user.username, row.label)
    return token


def authenticate(token: str | None) -> User | None:
    """The user a token acts as, or None (unknown, malformed or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = db.session.scalar(select(ApiToken).filter_by(token_sha256=_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None  # a deactivated official's tokens stop working with their login
    return row.user


def revoke(token_id: int, actor: str, now: datetime) -> ApiToken:
    """Revoke a token (吊销): it stops working at once; the row stays for the record."""
    with transaction():
        row = db.session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"接口令牌 {token_id} 不存在")
        if row.revoked_at is not None:
            raise RuleViolation(f"接口令牌 {token_id} 已于 {row.revoked_at.astimezone(CST):%Y-%m-%d %H:%M} 吊销")
        row.revoked_at = now
        audit.record(now, actor, "api_token_revoked", token_id=row.id, user=row.user.username, label=row.label)
    return row


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens (issued and revoked), oldest first; never their plaintext."""
    return list(db.session.scalars(select(ApiToken).filter_by(user_id=user.id).order_by(ApiToken.id)))
