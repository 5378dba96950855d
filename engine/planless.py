"""The events that belong to no plan (QA auditor finding 11): deploys, users added, changed,
deactivated and their passwords, groups, API tokens, the working-day calendar, delegations, mail
retried, sign-ins, and the audit trail's own checks, exports and anchors. A plan's trail
(engine/history.py) never shows them; the auditor reads them here, newest first, a page at a time,
filtered by kind and by date (Beijing days of `occurred_at`), each said as a trail says it, with
who, when, how (engine/channels.py) and its data.

Paged by event number, not by offset: the next page is the events before the last one shown
(`before`), so events appended meanwhile never shift a page. Read through the partial index
ix_audit_events_no_plan (migration 0025), newest first.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent

from .clock import TZ
from .errors import Invalid
from .history import trail_of
from .trail_text import NO_PLAN_KINDS

PAGE = 50
MAX_PAGE = 200

# the kinds of event with no plan, as a filter offers them: (Chinese, English); one table with the
# words their trail lines start with
KINDS = NO_PLAN_KINDS


def checked_filters(kind: str | None = None, since: str | date | None = None, until: str | date | None = None,
                    before: str | int | None = None, limit: str | int | None = None) -> dict:
    """The filters as given on a page, the command line or the API, checked; Invalid naming the one
    that is wrong and what it should be."""
    kind = (kind or "").strip() or None
    if kind is not None and kind not in KINDS:
        raise Invalid(f"不认识的事件类型 {kind}；可选：{'、'.join(KINDS)} "
                      f"(unknown event type {kind}; one of {', '.join(KINDS)})")
    since, until = _day(since, "起始日期", "since"), _day(until, "截止日期", "until")
    if since and until and since > until:
        raise Invalid(f"起始日期 {since} 晚于截止日期 {until}，请对调 (since {since} is after until {until}: swap them)")
    return {"kind": kind, "since": since, "until": until, "before": _whole(before, "before", "事件号", 1, 2**31 - 1),
            "limit": _whole(limit, "limit", "每页条数", 1, MAX_PAGE) or PAGE}


def _day(value, zh: str, en: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"{zh}「{value}」不是日期，请写成 2026-03-01 ({en} {value!r} is not a date: write it as "
                      "2026-03-01)") from None


def _whole(value, en: str, zh: str, least: int, most: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not least <= number <= most:
        raise Invalid(f"{zh}（{en}）须为 {least} 到 {most} 之间的整数 ({en} must be a whole number from {least} to {most})")
    return number


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


def planless_events(session: Session, *, kind: str | None = None, since: date | None = None,
                    until: date | None = None, before: int | None = None, limit: int = PAGE) -> dict:
    """At most `limit` events of no plan, newest first, of `kind`, on Beijing days `since`..`until`
    (both included), numbered below `before`. Each as a trail says it (history.Trail.describe:
    actor_name, channel, intact, recorded_at, payload). `next_before`: the `before` of the next,
    older page, None when there is none."""
    query = select(AuditEvent).where(AuditEvent.instance_id.is_(None))
    if kind is not None:
        query = query.where(AuditEvent.event_type == kind)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= _start_of(since))
    if until is not None:
        query = query.where(AuditEvent.occurred_at < _start_of(until + timedelta(days=1)))
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)).scalars().all()
    more, rows = len(rows) > limit, rows[:limit]
    trail = trail_of(session, None, {}, rows)
    return {"events": [trail.describe(e) for e in rows], "next_before": rows[-1].seq if more else None,
            "filters": {"kind": kind, "since": since.isoformat() if since else None,
                        "until": until.isoformat() if until else None, "before": before, "limit": limit}}
