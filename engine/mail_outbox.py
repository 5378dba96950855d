"""The mail outbox as the operator and the reform office see it (`reformflow mail status`, the
web's /mail page): how many are queued, sent, failing and given up, the oldest still queued, the
failing ones with their errors; trying a failing or given-up one again (reform office); and
pruning old sent and given-up mails (`reformflow mail prune`)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, delete, func, select, update

from models import MailDigestRound, MailMessage

from . import clock
from .errors import Conflict, Invalid, NotFound
from .queries import iso

_OUTBOX = MailMessage.__table__
EVENT = "mail_retried"


def status(session, *, configured: bool, failing: int = 50) -> dict:
    """Counts in one query, then the `failing` latest messages that failed (given up first)."""
    queued = _OUTBOX.c.sent_at.is_(None) & _OUTBOX.c.next_try_at.is_not(None)
    counts = session.execute(select(
        func.count(case((queued, 1))),
        func.count(case((queued & (_OUTBOX.c.attempts > 0), 1))),
        func.count(case((_OUTBOX.c.sent_at.is_(None) & _OUTBOX.c.next_try_at.is_(None), 1))),
        func.count(_OUTBOX.c.sent_at),
        func.min(case((queued, _OUTBOX.c.created_at))),
    )).one()
    oldest = counts[4]
    rows = session.execute(select(MailMessage).where(MailMessage.sent_at.is_(None), MailMessage.attempts > 0)
                           .order_by(MailMessage.next_try_at.is_not(None), MailMessage.id.desc())
                           .limit(failing)).scalars()
    return {"configured": configured, "queued": counts[0], "failing": counts[1], "gave_up": counts[2],
            "sent": counts[3], "oldest_queued_at": iso(oldest) if oldest is not None else None,
            "failures": [_row(m) for m in rows]}


def _row(m: MailMessage) -> dict:
    return {"id": m.id, "username": m.username, "address": m.address, "subject": m.subject, "kind": m.kind,
            "task_id": m.task_id, "created_at": iso(m.created_at), "attempts": m.attempts,
            "next_try_at": iso(m.next_try_at) if m.next_try_at else None, "last_error": m.last_error,
            "gave_up": m.next_try_at is None}


def retry(engine, mail_id: int, *, actor: str) -> dict:
    """Try a message that failed again at the sender's next round (reform office only); on the
    trail as `mail_retried`."""
    with engine.command(actor) as ctx:
        engine._office_member(ctx, actor, "只有改革办可以重发邮件 (only the reform office may retry a mail)")
        m = ctx.session.get(MailMessage, mail_id, with_for_update=True)
        if m is None:
            raise NotFound(f"邮件 {mail_id} 不存在 (no such mail: {mail_id})")
        if m.sent_at is not None:
            raise Conflict(f"邮件 {mail_id} 已发送，无需重试 (mail {mail_id} was sent already)")
        if m.attempts == 0:  # queued, or being sent right now: a retry could send it twice
            raise Conflict(f"邮件 {mail_id} 尚未发送失败，正在排队 (mail {mail_id} has not failed: it is queued)")
        ctx.session.execute(update(MailMessage).where(MailMessage.id == mail_id).values(next_try_at=ctx.now))
        ctx.log.record(EVENT, mail_id=mail_id, username=m.username, attempts=m.attempts)
        return {"id": mail_id, "username": m.username, "next_try_at": iso(ctx.now)}


PRUNE_DAYS = 90


def prune(db, older_than_days: int = PRUNE_DAYS) -> dict:
    """Delete the mails sent, or given up, more than `older_than_days` days ago (a given-up one by
    when it was queued), and the digest rounds of days as old; never one still queued or failing
    and to be tried again. The outbox is not the audit trail: nothing refers to its rows (the
    trail's `mail_retried` keeps the mail's number, not a link). One transaction."""
    if older_than_days < 1:  # today's digest round must stay, or today's digests would go again
        raise Invalid("--older-than 须为 1 或更大的天数 (must be at least 1 day)")
    now = clock.now()
    before = now - timedelta(days=older_than_days)
    given_up = _OUTBOX.c.sent_at.is_(None) & _OUTBOX.c.next_try_at.is_(None) & (_OUTBOX.c.created_at < before)
    with db.transaction() as session:
        conn = session.connection()
        sent = conn.execute(delete(_OUTBOX).where(_OUTBOX.c.sent_at < before)).rowcount
        gave_up = conn.execute(delete(_OUTBOX).where(given_up)).rowcount
        rounds = conn.execute(delete(MailDigestRound.__table__).where(
            MailDigestRound.__table__.c.day < before.astimezone(clock.TZ).date())).rowcount
    return {"before": iso(before), "deleted": sent + gave_up, "sent": sent, "gave_up": gave_up,
            "digest_rounds": rounds}
