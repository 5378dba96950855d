"""Repeated wrong passwords are refused for a while: at most PER_NAME failures for one user name
and PER_ADDRESS from one address within WINDOW; then the sign-in page says when to try again,
without checking the password at all (so guessing goes no faster however often one tries).

The failures are rows of sign_in_failures, not a dict in this process: behind a load balancer
each web worker would count only its own and an attacker would get PER_NAME guesses per worker.
A few workers racing may let a guess or two more through; that is all.

The address is request.remote_addr: behind a reverse proxy it is the client's only once
ProxyFix is on (docs/operations.md), else every person shares the proxy's address and the
address limit, set high for an office behind one NAT, is the one that bites.

    wait_until(engine, username, address) -> datetime | None   # refused until then, or None
    failed(engine, username, address)
    succeeded(engine, username)
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from engine import clock
from models import SignInFailure

WINDOW = timedelta(minutes=15)
PER_NAME = 5      # one person mistyping; a guesser gets five tries a quarter of an hour
PER_ADDRESS = 30  # a whole office behind one address, or one machine trying many names


def _name(username: str) -> str:
    return username.strip().lower()[:64]  # as typed: unknown names are counted too, the same way


def wait_until(engine, username: str, address: str) -> datetime | None:
    """The moment sign-ins for `username` or from `address` are accepted again, or None if now."""
    since = clock.now() - WINDOW
    with engine.db.reader() as s:
        until = []
        for column, value, limit in ((SignInFailure.username, _name(username), PER_NAME),
                                     (SignInFailure.address, address[:64], PER_ADDRESS)):
            recent = s.execute(select(SignInFailure.failed_at).where(column == value, SignInFailure.failed_at > since)
                               .order_by(SignInFailure.failed_at.desc()).limit(limit)).scalars().all()
            if len(recent) >= limit:  # free again once the oldest of the last `limit` leaves the window
                until.append(recent[-1] + WINDOW)
    return max(until) if until else None


def failed(engine, username: str, address: str) -> None:
    now = clock.now()
    with engine.db.transaction() as s:
        s.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - WINDOW))  # the table stays small
        s.add(SignInFailure(username=_name(username), address=address[:64], failed_at=now))


def succeeded(engine, username: str) -> None:
    """The person got it right: the failures under their name are forgotten."""
    mine = SignInFailure.username == _name(username)
    with engine.db.reader() as s:  # most sign-ins follow no failure: no write for them
        if not s.execute(select(func.count()).select_from(SignInFailure).where(mine)).scalar():
            return
    with engine.db.transaction() as s:
        s.execute(delete(SignInFailure).where(mine))
