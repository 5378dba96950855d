"""委托办理 (delegation while away): someone away (出差、休假、学习) names a colleague to handle
their work for a period. The rules of setting and ending one, and the one question every
permission check asks: for whom does this person act today (`principals_of`).

A delegation is *in force* while it is not ended and today (Beijing date, engine clock) lies
between its first and last day, both included. While it is, the delegate may claim what the
principal could claim (the task then is the delegate's), and complete, attach to, hand back
and comment on the tasks the principal holds, without taking them; every such action's event
says `on_behalf_of` the principal (全程留痕). The principal keeps their own rights.

No chains: a delegate is nobody's principal, and a principal nobody's delegate, in any overlapping
period, so "acting for" never reaches further than one step and needs no walk.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Delegation

from . import clock, display, short_text
from .errors import Conflict, Forbidden, Invalid
from .queries import iso

CREATED, ENDED = "delegation_created", "delegation_ended"  # the audit trail's events
MAX_DAYS = 90  # a longer absence is a change of post: the office assigns or moves the person
MAX_REASON = 100  # models.Delegation.reason


def today(now: datetime) -> date:
    """The day `now` falls on in Beijing: the day a delegation's dates are compared with."""
    return now.astimezone(clock.TZ).date()


def checked_reason(reason: str | None) -> str:
    return short_text.checked(reason, what="委托事由", what_en="reason", most=MAX_REASON,
                              example="「出差」「休假」「学习」", example_en="business trip, leave, training")


def checked_period(starts_on: date, ends_on: date, now: datetime) -> None:
    if ends_on < starts_on:
        raise Invalid(f"委托的最后一天 {ends_on} 早于第一天 {starts_on}，请核对日期 "
                      f"(the last day {ends_on} is before the first day {starts_on}: check the dates)")
    if ends_on < today(now):
        raise Invalid(f"委托的最后一天 {ends_on} 已过，请填今天（{today(now)}）或以后的日期 "
                      f"(the last day {ends_on} is over: give today, {today(now)}, or a later day)")
    days = (ends_on - starts_on).days + 1
    if days > MAX_DAYS:
        raise Invalid(f"委托期限最长 {MAX_DAYS} 天，现为 {days} 天；更长的离岗请由改革办调整岗位或指派任务 "
                      f"(a delegation lasts at most {MAX_DAYS} days, this one {days}: for a longer absence "
                      f"the reform office reassigns the work)")


def _overlapping(column, username: str, starts_on: date, ends_on: date):
    """The delegations not ended where `column` is `username` and whose period meets the given one."""
    return select(Delegation).where(column == username, Delegation.ended_at.is_(None),
                                    Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on) \
        .order_by(Delegation.starts_on)


def check_no_clash(session: Session, principal: str, delegate: str, starts_on: date, ends_on: date) -> None:
    """Refuse an overlap with the principal's own delegations, and a chain either way."""
    if (same := session.execute(_overlapping(Delegation.principal, principal, starts_on, ends_on)).scalars().first()):
        raise Conflict(f"{principal} 在 {same.starts_on} 至 {same.ends_on} 已委托 {same.delegate} 办理（委托 {same.id}），"
                       f"期间重叠；如需改由他人办理，请先结束该委托 "
                       f"({principal} has delegated to {same.delegate} from {same.starts_on} to {same.ends_on}, "
                       f"delegation {same.id}: end it first to name someone else)")
    if (away := session.execute(_overlapping(Delegation.principal, delegate, starts_on, ends_on)).scalars().first()):
        raise Conflict(f"{delegate} 在 {away.starts_on} 至 {away.ends_on} 本人也委托了 {away.delegate} 办理，"
                       f"不能再受托；请另选受托人 ({delegate} is away themself from {away.starts_on} to "
                       f"{away.ends_on}, delegating to {away.delegate}: choose someone else)")
    if (acting := session.execute(_overlapping(Delegation.delegate, principal, starts_on, ends_on)).scalars().first()):
        raise Conflict(f"{principal} 在 {acting.starts_on} 至 {acting.ends_on} 正受 {acting.principal} 委托代办，"
                       f"不能转委托；请由 {acting.principal} 另行委托，或先结束委托 {acting.id} "
                       f"({principal} acts for {acting.principal} from {acting.starts_on} to {acting.ends_on} and may "
                       f"not pass that on: {acting.principal} names someone else, or delegation {acting.id} is ended first)")
    # the delegate acting for others meanwhile is fine: one person may stand in for two


def add(session: Session, principal: str, delegate: str, starts_on: date, ends_on: date, reason: str,
        actor: str, now: datetime) -> Delegation:
    row = Delegation(principal=principal, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason,
                     created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    return row


def state(row, on: date) -> str:
    """ended, upcoming, in_force or over."""
    if row.ended_at is not None:
        return "ended"
    if on < row.starts_on:
        return "upcoming"
    return "in_force" if on <= row.ends_on else "over"


def delegation_dict(row, on: date) -> dict:
    return {"id": row.id, "principal": row.principal, "delegate": row.delegate,
            "starts_on": row.starts_on.isoformat(), "ends_on": row.ends_on.isoformat(), "reason": row.reason,
            "created_by": row.created_by, "created_at": iso(row.created_at), "ended_at": iso(row.ended_at),
            "ended_by": row.ended_by, "state": state(row, on)}


def event_fields(row) -> dict:
    """What the trail keeps of a delegation: who for whom, when, why."""
    return {"id": row.id, "principal": row.principal, "delegate": row.delegate,
            "starts_on": row.starts_on.isoformat(), "ends_on": row.ends_on.isoformat(), "reason": row.reason}


def end(log, row, actor: str, now: datetime, **why) -> None:
    """End one delegation (a locked row) now, with its `delegation_ended` event."""
    row.ended_at, row.ended_by = now, actor
    log.record(ENDED, username=row.principal, **why, old={"ended_at": None},
               new={**event_fields(row), "ended_at": iso(now)})


def end_all_of(session: Session, log, username: str, actor: str, now: datetime, reason: str) -> int:
    """End every delegation not yet over where `username` is principal or delegate (they left)."""
    rows = session.execute(select(Delegation).where(
        (Delegation.principal == username) | (Delegation.delegate == username), Delegation.ended_at.is_(None),
        Delegation.ends_on >= today(now)).order_by(Delegation.id).with_for_update()).scalars().all()
    for row in rows:
        end(log, row, actor, now, reason=reason)
    return len(rows)


def listed(session: Session, now: datetime, username: str | None = None) -> list[dict]:
    """`username`'s delegations, given and received, or (None) everyone's current and upcoming;
    those not over first, by their first day, then the rest, newest first."""
    on = today(now)
    query = select(Delegation)
    if username is not None:
        query = query.where((Delegation.principal == username) | (Delegation.delegate == username))
    else:
        query = query.where(Delegation.ended_at.is_(None), Delegation.ends_on >= on)
    rows = [delegation_dict(r, on) for r in session.execute(query.order_by(Delegation.id.desc())).scalars()]
    live = sorted((r for r in rows if r["state"] in ("in_force", "upcoming")), key=lambda r: (r["starts_on"], r["id"]))
    return live + [r for r in rows if r["state"] not in ("in_force", "upcoming")]


_TABLE = Delegation.__table__
_IN_FORCE = select(_TABLE.c.principal).where(
    _TABLE.c.delegate == bindparam("delegate"), _TABLE.c.ended_at.is_(None),
    _TABLE.c.starts_on <= bindparam("on"), _TABLE.c.ends_on >= bindparam("on")).order_by(_TABLE.c.principal)


def principals_of(conn, delegate: str, on: date) -> list[str]:
    """The people `delegate` acts for on day `on` (in force): the one place the rights come from."""
    return list(conn.execute(_IN_FORCE, {"delegate": delegate, "on": on}).scalars())


def principals_by_delegate(conn, delegates: list[str], on: date) -> dict[str, list[str]]:
    """principals_of of many delegates, in one SELECT: delegate -> the people they act for."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(delegates), 500):  # within any database's limit of parameters
        for principal, delegate in conn.execute(
                select(_TABLE.c.principal, _TABLE.c.delegate).where(
                    _TABLE.c.delegate.in_(delegates[start:start + 500]), _TABLE.c.ended_at.is_(None),
                    _TABLE.c.starts_on <= on, _TABLE.c.ends_on >= on).order_by(_TABLE.c.principal)):
            found.setdefault(delegate, []).append(principal)
    return found


def may_end(row, actor: str, office: bool) -> None:
    if actor not in (row.principal, row.delegate) and not office:
        raise Forbidden("只有委托人、受托人或改革办可以结束委托 (only the principal, the delegate or the reform "
                        "office ends a delegation)")
    if row.ended_at is not None:
        raise Conflict(f"委托 {row.id} 已于 {display.minute(iso(row.ended_at))} 由 {row.ended_by} 结束 "
                       f"(delegation {row.id} was ended already, at {display.minute(iso(row.ended_at))} by {row.ended_by})")

