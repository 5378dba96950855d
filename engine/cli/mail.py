"""The outbox of mail notifications: sending what is due now, and how it stands."""
from __future__ import annotations

import sys

import click

from .. import display
from .params import IntRange
from .shared import _emit, command, main


@main.group()
def mail():
    """邮件提醒的发件箱 (the outbox of mail notifications)."""


@command(mail, "send")
def mail_send(state, as_json):
    """立即发送到期的邮件一次，到时间而当天尚未生成的待办摘要先生成（与 worker 每轮所做相同）
    (send the mails due now, once, after queueing the day's digests if their time has come and no
    round queued them yet: what the worker does each round)."""
    from .. import mail_digest, mail_sender
    from ..errors import Invalid
    settings = mail_sender.SmtpSettings.from_env()
    # as the worker: no digest without a mail server, to go out days late once one is set; a wrong
    # REFORMFLOW_DIGEST_TIME holds back the digest alone
    digests, digest_error = None, None
    try:
        digests = mail_digest.queue_due(state.engine.db) if settings is not None else None
    except Invalid as exc:
        digest_error = exc.message
        click.echo(f"未生成待办摘要 (daily digests not queued): {digest_error}", err=True)
    result = {**mail_sender.send_due(state.engine.db, settings),
              "digests_queued": digests["queued"] if digests else 0, "digest_day": digests and digests["day"],
              "digest_error": digest_error}

    def human(d):
        if not d["configured"]:
            click.echo("未配置 SMTP（REFORMFLOW_SMTP_HOST），未发送任何邮件，邮件留在队列中 "
                       "(no SMTP configured: nothing sent, the mails stay queued)")
            return
        if d["digest_day"]:
            click.echo(f"已生成 {d['digest_day']} 的待办摘要 {d['digests_queued']} 封 "
                       f"(daily digests queued: {d['digests_queued']})")
        click.echo(f"已发送 {d['sent']} 封，失败待重试 {d['failed']} 封，放弃 {d['gave_up']} 封 "
                   f"(sent {d['sent']}, failed {d['failed']}, given up {d['gave_up']})")
        for e in d["errors"]:
            click.echo(f"  邮件 (mail) {e['id']}：{e['error']}")
    _emit(result, as_json, human)
    if result["configured"] and (result["failed"] or result["gave_up"]):
        sys.exit(1)


@command(mail, "status")
def mail_status(state, as_json):
    """发件箱状态：排队、已发送、失败的数量，最早排队的时间，SMTP 设置的问题；能读出队列即返回 0
    (the outbox: queued, sent and failing counts, the oldest queued, a problem with the SMTP settings;
    exit 0 whenever the queue could be read)."""
    from .. import mail_outbox, mail_sender
    # a setting wrong: the queue is worth reporting all the same
    settings, problem = mail_sender.configuration()
    configured = settings is not None
    with state.engine.db.reader() as session:
        result = mail_outbox.status(session, configured=configured) | {"config_error": problem}

    def human(d):
        if d["config_error"] and d["configured"]:  # REFORMFLOW_DIGEST_TIME: only the digest waits
            click.echo(f"邮件设置有误，待办摘要不会生成，其他邮件照常发送：{d['config_error']} "
                       f"(a mail setting is wrong: no daily digest is queued, the other mails are sent)")
        elif d["config_error"]:
            click.echo(f"SMTP 设置有误，邮件不会发出，留在队列中：{d['config_error']} "
                       f"(the SMTP settings are wrong: mails are not sent, they stay queued)")
        elif not d["configured"]:
            click.echo("未配置 SMTP（REFORMFLOW_SMTP_HOST）：邮件不会发出，留在队列中 "
                       "(no SMTP configured: mails are not sent, they stay queued)")
        oldest = f"，最早排队于 {display.minute(d['oldest_queued_at'])} (oldest queued)" if d["oldest_queued_at"] else ""
        click.echo(f"排队 {d['queued']} 封（其中失败待重试 {d['failing']} 封），已发送 {d['sent']} 封，已放弃 "
                   f"{d['gave_up']} 封{oldest} (queued {d['queued']}, of them failing {d['failing']}; sent "
                   f"{d['sent']}; given up {d['gave_up']})")
        for m in d["failures"]:
            state_text = "已放弃 given up" if m["gave_up"] else f"下次重试 (next try) {display.minute(m['next_try_at'])}"
            click.echo(f"  {m['id']} {m['username']} <{m['address']}> 尝试 (attempts) {m['attempts']}，{state_text}："
                       f"{m['last_error']}")
    _emit(result, as_json, human)


@command(mail, "prune")
@click.option("--older-than", "days", default=90, show_default=True, type=IntRange(1, 36500, "须为 1 或更大的天数"),
              help="删除多少天以前已发送或已放弃的邮件 (delete mails sent or given up more than this many days ago).")
def mail_prune(state, as_json, days):
    """删除发件箱中较早的已发送和已放弃邮件，排队和待重试的不删 (delete old sent and given-up mails from the outbox; never queued or failing ones)."""
    from .. import mail_outbox
    result = mail_outbox.prune(state.engine.db, days)
    _emit(result, as_json, lambda d: click.echo(
        f"已删除 {d['deleted']} 封 {days} 天以前的邮件（已发送 {d['sent']} 封，已放弃 {d['gave_up']} 封） "
        f"(deleted {d['deleted']} mails older than {days} days: sent {d['sent']}, given up {d['gave_up']})"))
