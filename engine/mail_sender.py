"""Sending the queued mails (mail_outbox) through SMTP: `reformflow mail send` and each round of
`reformflow worker`.

One message at a time, each in short transactions of its own: the row is taken (on PostgreSQL
`FOR UPDATE SKIP LOCKED`, so a second sender skips it) and leased (`next_try_at` moved LEASE
ahead) and committed; then sent, with no transaction open, so a slow mail server never holds
up the people working (on SQLite a transaction is the one writer); then marked sent, or failed.
Several senders thus never take one message at once. A sender that dies between sending and
marking sends it once more after the lease: at least once, never lost.

A failure counts an attempt, keeps the error and tries again after BACKOFF (1, 5, 30 minutes,
2 hours, then daily); after MAX_ATTEMPTS the message is given up (next_try_at NULL), kept and
shown to the reform office, which may try it again (engine/mail_outbox.py).

Without REFORMFLOW_SMTP_HOST nothing is sent: the mails stay queued, `reformflow mail status`
says so."""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import bindparam, select, update

from models import MailMessage

from . import clock
from .errors import Invalid

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
DAILY = timedelta(days=1)
MAX_ATTEMPTS = 8  # about four days: 1 + 5 + 30 min + 2 h, then daily
LEASE = timedelta(minutes=10)  # far longer than a send may take (timeout below)

_OUTBOX = MailMessage.__table__


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    security: str  # "starttls", "ssl" or "none"
    timeout: float

    @classmethod
    def from_env(cls, env=None) -> "SmtpSettings | None":
        """The settings from REFORMFLOW_SMTP_*; None when no host is set (mail stays queued)."""
        env = os.environ if env is None else env
        host = (env.get("REFORMFLOW_SMTP_HOST") or "").strip()
        if not host:
            return None
        security = (env.get("REFORMFLOW_SMTP_SECURITY") or "").strip().lower()
        if not security:  # REFORMFLOW_SMTP_STARTTLS=1 as a shorthand
            security = "starttls" if (env.get("REFORMFLOW_SMTP_STARTTLS") or "").strip() in ("1", "true", "yes") \
                else "none"
        if security not in ("starttls", "ssl", "none"):
            raise Invalid(f"REFORMFLOW_SMTP_SECURITY 须为 starttls、ssl 或 none，现为“{security}” "
                          "(must be starttls, ssl or none)")
        try:
            port = int(env.get("REFORMFLOW_SMTP_PORT") or (465 if security == "ssl" else 587 if security == "starttls"
                                                           else 25))
            timeout = float(env.get("REFORMFLOW_SMTP_TIMEOUT") or 30)
        except ValueError:
            raise Invalid("REFORMFLOW_SMTP_PORT 和 REFORMFLOW_SMTP_TIMEOUT 须为数字 (must be numbers)") from None
        user = (env.get("REFORMFLOW_SMTP_USER") or "").strip() or None
        sender = (env.get("REFORMFLOW_SMTP_FROM") or "").strip() or user
        if not sender:
            raise Invalid("请设置发件地址 REFORMFLOW_SMTP_FROM (set the sender's address, REFORMFLOW_SMTP_FROM)")
        return cls(host, port, user, env.get("REFORMFLOW_SMTP_PASSWORD") or None, sender, security, timeout)


def configuration(env=None) -> tuple[SmtpSettings | None, str | None]:
    """The SMTP settings (None: nothing is sent) and what is wrong with the mail settings, if
    anything, for `mail status` and the web's /mail: a wrong SMTP setting stops all sending, a
    wrong REFORMFLOW_DIGEST_TIME only the daily digest (the other mails go out)."""
    from .mail_digest import digest_time
    try:
        settings = SmtpSettings.from_env(env)
    except Invalid as exc:
        return None, exc.message
    try:
        digest_time(env)
    except Invalid as exc:
        return settings, exc.message
    return settings, None


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a message is tried again."""
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else DAILY


_DUE = (select(_OUTBOX.c.id, _OUTBOX.c.address, _OUTBOX.c.subject, _OUTBOX.c.body, _OUTBOX.c.attempts,
               _OUTBOX.c.created_at)
        .where(_OUTBOX.c.next_try_at <= bindparam("now"), _OUTBOX.c.sent_at.is_(None))
        .order_by(_OUTBOX.c.next_try_at, _OUTBOX.c.id).limit(1).with_for_update(skip_locked=True))
_LEASE = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("mail_id")).values(next_try_at=bindparam("until"))
_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("mail_id"), _OUTBOX.c.sent_at.is_(None)).values(
    sent_at=bindparam("now"), next_try_at=None, last_error=None)
_FAILED = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("mail_id"), _OUTBOX.c.sent_at.is_(None)).values(
    attempts=bindparam("attempts"), next_try_at=bindparam("next_try"), last_error=bindparam("error"))


class _Connection:
    """One SMTP connection for a round, opened at the first message."""

    def __init__(self, settings: SmtpSettings):
        self.settings, self.smtp = settings, None

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            s = self.settings
            if s.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if s.user:
                self.smtp.login(s.user, s.password or "")
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.smtp = None


def send_due(db, settings: SmtpSettings | None, *, limit: int = 200) -> dict:
    """Send the messages due now, at most `limit`. Returns what happened: sent, failed (to be
    tried again), gave_up, and configured=False (nothing done) without SMTP settings. A lost
    connection ends the round (the next round tries again); a refused message does not."""
    result = {"configured": settings is not None, "sent": 0, "failed": 0, "gave_up": 0, "errors": []}
    if settings is None:
        return result
    connection = _Connection(settings)
    try:
        for _ in range(limit):
            taken = _take(db)
            if taken is None:
                break
            try:
                connection.send(_email(settings, taken))
            except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: a header it cannot write
                gave_up = _failed(db, taken, exc)
                result["gave_up" if gave_up else "failed"] += 1
                result["errors"].append({"id": taken.id, "error": _said(exc)})
                if not isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                                        smtplib.SMTPDataError, ValueError)):
                    connection.close()
                    break  # the server is down or refuses us: the rest waits for the next round
                continue
            with db.transaction() as session:
                session.connection().execute(_SENT, {"mail_id": taken.id, "now": clock.now()})
            result["sent"] += 1
    finally:
        connection.close()
    return result


def _take(db):
    """The next due message, leased to this sender (committed before it is sent)."""
    with db.transaction() as session:
        conn = session.connection()
        now = clock.now()
        row = conn.execute(_DUE, {"now": now}).first()
        if row is not None:
            conn.execute(_LEASE, {"mail_id": row.id, "until": now + LEASE})
        return row


def _failed(db, taken, exc: Exception) -> bool:
    """Count the failure; True if the message is now given up."""
    attempts = taken.attempts + 1
    now = clock.now()
    gave_up = attempts >= MAX_ATTEMPTS
    with db.transaction() as session:
        session.connection().execute(_FAILED, {"mail_id": taken.id, "attempts": attempts, "error": _said(exc),
                                               "next_try": None if gave_up else now + backoff(attempts)})
    return gave_up


def _said(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def message_id(settings: SmtpSettings, taken) -> str:
    """The same for every sending of one outbox row: a mail sent again (after a restore, or by a
    sender that died before marking it sent) is one message to mail clients, not a duplicate. Its
    time queued too, since a restore gives the ids of the mails queued after the backup to new
    ones. The domain is the sender's, which a restore on another server keeps (else this host's, as
    email.utils.make_msgid's)."""
    domain = parseaddr(settings.sender)[1].rpartition("@")[2]
    if not domain or not domain.isascii():  # a header line holds ASCII alone
        domain = socket.getfqdn()
    return f"<reformflow.{taken.id}.{taken.created_at.astimezone(timezone.utc):%Y%m%d%H%M%S%f}@{domain}>"


def _email(settings: SmtpSettings, taken) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = taken.address
    message["Subject"] = taken.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(settings, taken)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies, please
    message.set_content(taken.body, charset="utf-8")
    return message
