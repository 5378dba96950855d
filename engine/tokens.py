"""Personal access tokens of the JSON API (web/api.py): what a token's name accepts, making one,
listing a person's, revoking one, and finding whose a secret is.

A token acts as its owner, with their rights as they are at each request: a token of someone
deactivated, or moved out of a group, opens only what they may do now. The secret (`rf_` and 43
random URL-safe characters, 256 bits) is returned once, when the token is made; the table keeps
its SHA-256 only, so neither a copy of the database nor its backups open anything. A token
expires at the end of the day it is given (Beijing time), or never; revoking is for good.
`token_created` and `token_revoked` are events of the audit trail, with the token's id and
name, never its secret nor its hash; so is `token_refused`, a revoked or expired token still
sent (a script nobody updated, or the secret in other hands), at most once per token every
USE_RECORDED_EVERY. A secret no token has is refused without a trace: it names nobody, and
writing each one down would let anyone fill the trail.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.orm import Session

from models import ApiToken

from . import display, short_text
from .deadlines import end_of_local_day
from .errors import Invalid, Unauthorized
from .queries import iso

CREATED, REVOKED, REFUSED = "token_created", "token_revoked", "token_refused"  # the audit trail's events
PREFIX = "rf_"  # says what a leaked string is (secret scanners, logs), and that it is ours
MAX_NAME = 100  # models.ApiToken.name
# How stale a token's last use may be shown: a client polling every second would otherwise write
# the token's row as often, and every such write waits its turn with the real actions (SQLite).
USE_RECORDED_EVERY = timedelta(minutes=5)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 (hex) the table keeps of a secret. A plain hash suffices: the secret is 256
    random bits, not a password someone chose, so there is nothing to guess from it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def checked_name(name: str | None) -> str:
    """The token's name as kept (trimmed), or Invalid."""
    return short_text.checked(name, what="令牌名称", what_en="token's name", most=MAX_NAME,
                              example="「OA 系统」", example_en="\"OA system\"")


def expiry(day: date | None, now: datetime) -> datetime | None:
    """The instant a token given `day` as its last day expires: the end of that day, Beijing time
    (the next local midnight, as a deadline written as a date). Not a day already over."""
    if day is None:
        return None
    ends = end_of_local_day(day)
    if ends <= now:
        raise Invalid(f"有效期的最后一天不能早于今天，{day:%Y-%m-%d} 已过 "
                      f"(the last day must be today or later: {day:%Y-%m-%d} is over)")
    return ends


def state(token, now: datetime) -> str:
    """active, revoked or expired."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def token_dict(token, now: datetime) -> dict:
    """A token as its owner and the office see it: never its secret, nor its hash."""
    return {"id": token.id, "username": token.username, "name": token.name, "created_at": iso(token.created_at),
            "expires_at": iso(token.expires_at), "revoked_at": iso(token.revoked_at),
            "last_used_at": iso(token.last_used_at), "refused_at": iso(token.refused_at),
            "state": state(token, now)}


def add(session: Session, username: str, name: str, expires_at: datetime | None, now: datetime) -> dict:
    """A new token of `username`: its dict and, this once, its `secret`."""
    secret = new_secret()
    token = ApiToken(username=username, name=name, secret_sha256=digest(secret), created_at=now,
                     expires_at=expires_at)
    session.add(token)
    session.flush()
    return token_dict(token, now) | {"secret": secret}


def listed(session: Session, username: str, now: datetime) -> list[dict]:
    """`username`'s tokens, the newest first, revoked and expired ones too (they say what was)."""
    rows = session.execute(select(ApiToken).where(ApiToken.username == username)
                           .order_by(ApiToken.id.desc())).scalars()
    return [token_dict(t, now) for t in rows]


def revoke_all(session: Session, log, username: str, now: datetime, reason: str) -> int:
    """Revoke every token of `username` still valid, each with its `token_revoked` event saying
    `reason`: when someone leaves, as their web sessions end, their tokens end for good (a
    reactivation gives back the person, not the systems that acted as them)."""
    rows = session.execute(select(ApiToken).where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
                           .order_by(ApiToken.id).with_for_update()).scalars().all()
    for token in rows:
        revoke(log, token, now, reason=reason)
    return len(rows)


def revoke(log, token, now: datetime, **why) -> None:
    """Revoke one token (a locked row) for good, with its `token_revoked` event."""
    token.revoked_at = now
    log.record(REVOKED, username=token.username, **why, old={"revoked_at": None},
               new={"id": token.id, "name": token.name, "revoked_at": iso(now)})


_TOKENS = ApiToken.__table__
_BY_DIGEST = select(_TOKENS).where(_TOKENS.c.secret_sha256 == bindparam("digest"))


class TokenRefused(Unauthorized):
    """A token that exists but is revoked or expired: `token` is its row, `reason` which."""

    def __init__(self, message: str, token, reason: str):
        super().__init__(message)
        self.token, self.reason = token, reason


def owner(conn: Connection, secret: str, now: datetime):
    """The token row a secret opens, if it is valid now; else Unauthorized, saying why (only
    someone holding the secret learns it), a TokenRefused if the token exists. The English half
    names no token: a name in Chinese there would keep the API from telling the two halves apart
    (web/i18n.py split)."""
    row = conn.execute(_BY_DIGEST, {"digest": digest(secret)}).one_or_none() if secret else None
    if row is None:
        raise Unauthorized("访问令牌无效：请检查 Authorization: Bearer 后的密钥 "
                           "(invalid access token: check the secret after Authorization: Bearer)")
    if row.revoked_at is not None:
        raise TokenRefused(f"访问令牌「{row.name}」已撤销 (the access token was revoked)", row, "revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused(f"访问令牌「{row.name}」已于 {display.deadline(iso(row.expires_at))} 到期 "
                           f"(the access token expired: its last day was "
                           f"{display.deadline(iso(row.expires_at))})", row, "expired")
    return row


def _stamp_when_stale(column):
    """UPDATE of one token's `column` to :now, unless another request wrote it within
    USE_RECORDED_EVERY (it is newer than :stale): between web workers, the database decides."""
    return update(_TOKENS).where(_TOKENS.c.id == bindparam("token_id"),
                                 or_(column.is_(None), column <= bindparam("stale"))).values({column: bindparam("now")})


_RECORD_USE = _stamp_when_stale(_TOKENS.c.last_used_at)
_RECORD_REFUSAL = _stamp_when_stale(_TOKENS.c.refused_at)


def _stale(written: datetime | None, now: datetime) -> bool:
    return written is None or written <= now - USE_RECORDED_EVERY


def use_to_record(token, now: datetime) -> bool:
    """Whether a request made with `token` (its row as read) should write its last use now."""
    return _stale(token.last_used_at, now)


def record_use(conn: Connection, token_id: int, now: datetime) -> None:
    """Write the token's last use, unless another request wrote it within USE_RECORDED_EVERY."""
    conn.execute(_RECORD_USE, {"token_id": token_id, "now": now, "stale": now - USE_RECORDED_EVERY})


def refusal_to_record(token, now: datetime) -> bool:
    """Whether a refused request with `token` (its row as read) should go on the trail now."""
    return _stale(token.refused_at, now)


def record_refusal(conn: Connection, log, refused: TokenRefused, now: datetime, address: str | None) -> None:
    """`token_refused` on the trail, unless another request recorded this token's within
    USE_RECORDED_EVERY (the conditional UPDATE decides between web workers)."""
    token = refused.token
    done = conn.execute(_RECORD_REFUSAL, {"token_id": token.id, "now": now, "stale": now - USE_RECORDED_EVERY})
    if done.rowcount:
        log.record(REFUSED, username=token.username, id=token.id, name=token.name, reason=refused.reason,
                   **({"address": address[:64]} if address else {}))
