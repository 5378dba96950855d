"""每日待办摘要: once each working day, at or after REFORMFLOW_DIGEST_TIME (Beijing time, 08:30
by default), the worker's mail round queues one mail for each active person who asked for it
(users.mail_digest), has an address and has open steps: the ones overdue, the ones due soon,
and how many others (engine/mail_digest_text.py).

Whose steps: the inbox's own lists, 我的待办 and 可认领 (engine/queries.py), so the digest says
what the person sees when they open it, steps they act on for someone away (委托办理) included,
as the event mails reach them; due soon is the inbox's 只看即将到期 (engine/overview.py soon_by).

Once per day, whichever worker comes first: the digests are read first, then written in one
transaction with the day's row in mail_digest_rounds (its key is the day). A second worker, or
one restarted, finds the row and does nothing; two at once both read, and the second's INSERT
of the day fails on the key and rolls back all its mails. The unique index on (username,
digest_on) of mail_outbox refuses a second digest for a person and day besides. Only today's
digest is ever queued: a worker down all day never sends yesterday's the next morning.

Cost: before the time, nothing; after it, on a day off or a day already done, the calendar's
entries and one primary-key read; the day's round, the open tasks, their candidates, the users
and today's delegations read once for everyone who asked (queries.open_lists), not two list
queries per person (1,718 statements for 214 people)."""
from __future__ import annotations

import os
from datetime import date, datetime, time

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from models import MailDigestRound, MailMessage, User

from . import clock, mail, mail_digest_text
from .errors import Invalid
from .overview import SOON, soon_by
from .queries import open_lists
from .runtime import calendar_of

KIND = "digest"
DEFAULT_TIME = time(8, 30)


def digest_time(env=None) -> time:
    """When the day's digests are queued, Beijing time: REFORMFLOW_DIGEST_TIME as HH:MM."""
    env = os.environ if env is None else env
    value = (env.get("REFORMFLOW_DIGEST_TIME") or "").strip()
    if not value:
        return DEFAULT_TIME
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise Invalid(f"REFORMFLOW_DIGEST_TIME 须为北京时间 时:分，如 08:30，现为“{value[:20]}” "
                      "(must be a time of day HH:MM, Beijing time, e.g. 08:30)") from None


def due_day(calendar, now: datetime, at: time) -> date | None:
    """The day whose digests are due at `now`: today, if a working day and `at` has passed."""
    local = now.astimezone(clock.TZ)
    today = local.date()
    return today if calendar.is_working_day(today) and local.time() >= at else None


def queue_due(db, env=None) -> dict | None:
    """Queue today's digests if they are due and no round queued them yet. Returns
    {"day", "queued"} when this round queued them, else None (not due, or done already)."""
    at = digest_time(env)
    now = clock.now()
    if now.astimezone(clock.TZ).time() < at:  # most rounds of the day: no read at all
        return None
    with db.reader() as session:
        conn = session.connection()
        calendar = calendar_of(conn)
        day = due_day(calendar, now, at)
        if day is None or session.get(MailDigestRound, day) is not None:
            return None
        messages = _digests(session, day, now, calendar)
    try:
        with db.transaction() as session:
            conn = session.connection()
            conn.execute(insert(MailDigestRound.__table__), {"day": day, "queued_at": now, "mails": len(messages)})
            if messages:
                conn.execute(insert(MailMessage.__table__), messages)
    except IntegrityError:  # another worker queued the day's digests first: theirs stand
        return None
    return {"day": day.isoformat(), "queued": len(messages)}


_WANTING = (select(User.username, User.display_name, User.email)
            .where(User.active.is_(True), User.mail_digest.is_(True), User.email.is_not(None))
            .order_by(User.username))


def _digests(session, day: date, now: datetime, calendar) -> list[dict]:
    """The outbox rows of the day's digests, one per person who asked and has open steps."""
    people = session.execute(_WANTING).all()
    if not people:
        return []
    soon = soon_by(session.connection(), now, calendar)
    names = dict(session.execute(select(User.username, User.display_name)).all())
    link = mail.base_url()
    messages = []
    lists = open_lists(session, [person.username for person in people], now)  # the inbox's lists, all at once
    for person in people:
        mine, claimable = lists[person.username]
        rows = mine + claimable
        if not rows:
            continue
        # by the deadline each is judged by, as the inbox: a filing's first after 限期报送 (engine/judged_due.py)
        dated = sorted((r for r in rows if r["judged_due_at"]), key=lambda r: (r["judged_due_at"], r["id"]))
        overdue = [r for r in dated if datetime.fromisoformat(r["judged_due_at"]) <= now]
        due_soon = [r for r in dated if now < datetime.fromisoformat(r["judged_due_at"]) <= soon]
        subject, body = mail_digest_text.message(
            day, to=person.display_name, overdue=overdue, soon=due_soon,
            others=len(rows) - len(overdue) - len(due_soon), soon_days=SOON, link=link, calendar=calendar,
            now=now, names=names)
        messages.append({"username": person.username, "address": person.email, "subject": subject, "body": body,
                         "kind": KIND, "instance_id": None, "task_id": None, "created_at": now, "attempts": 0,
                         "next_try_at": now, "digest_on": day})
    return messages
