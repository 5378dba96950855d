"""The commands that keep running: firing due timers (`timers run`, `worker`, with the worker's
round of mail) and `web`, which runs the worker beside the web inbox.
"""
from __future__ import annotations

import json
import sys
import time

import click

from .. import clock
from ..errors import ReformflowError
from . import fired as fired_said
from .calendar import _warn_calendar_gaps
from .params import FloatRange, IntRange
from .shared import EXIT_CODES, _emit, command, main
from .show import _local


@main.group()
def timers():
    """定时器和期限 (timers and deadlines)."""


def _timer_progress(plans: int) -> None:
    """A backlog bigger than one batch (after the worker was down): say how far it has got."""
    click.echo(f"已处理一批到期定时器，{plans} 个方案已触发，继续… (timers fired in {plans} plan(s) so far)", err=True)


def _timer_failed(failures: list | None = None, *, retrying: bool = False):
    """Reports a plan whose timer could not run on, on standard error (and collects it); the
    worker (`retrying`) also says when it tries the plan again."""
    def report(instance_id: int, exc: ReformflowError, retry) -> None:
        line = f"reformflow: 方案 {instance_id} 的定时器未能触发 (plan {instance_id}: timer not fired): {exc.kind}: {exc.message}".replace("\n", " ")
        if retrying:
            at = _local(retry.next_try.isoformat())
            line += f" [第 {retry.attempts} 次失败，{at} 再试 (failed {retry.attempts} time(s); next try {at})]"
        click.echo(line, err=True)
        if failures is not None:
            failures.append({"instance_id": instance_id, **exc.to_dict()})
    return report


@command(timers, "run")
def timers_run(state, as_json):
    """触发当前到期的定时器，一次 (fire every timer that is due now, once)."""
    fired_said.warn_fixed_clock()
    failed: list[dict] = []
    fired = state.engine.fire_due_timers(progress=_timer_progress, on_error=_timer_failed(failed))
    _emit({"fired": fired, "failed": failed}, as_json, lambda d: _say_fired(d["fired"], failed))
    if failed:  # the others fired; the exit status says not everything did
        sys.exit(EXIT_CODES[failed[0]["error"]])


def _say_fired(fired: list[dict], failed: list[dict]) -> None:
    said = fired_said.lines(fired)
    if failed:
        said[0] = said[0].rstrip("：") + f"；{len(failed)} 个方案失败，见上文 ({len(failed)} plan(s) failed, see above)"
    for line in said:
        click.echo(line)


@command(main, "worker")
@click.option("--interval", default=30.0, show_default=True, type=FloatRange(0, 86400, "须为 0 至 86400 秒"),
              help="两轮之间的秒数 (seconds between rounds).")
@click.option("--rounds", type=IntRange(1, None, "须为 1 或更大的整数；一直运行请不写 --rounds"), help="运行这么多轮后停止，默认一直运行 (stop after this many rounds; default: run until stopped).")
def worker_cmd(state, as_json, interval, rounds):
    """持续触发到期定时器，与网页进程并行运行一个或多个 (keep firing due timers, next to the web workers)."""
    _refuse_another_schema(state)  # a --db URL reformflow cannot use is refused at once: waiting will not mend it
    from web.settings import warning_lines
    for line in warning_lines():  # a misspelt REFORMFLOW_SMTP_* would otherwise be silently ignored
        click.echo(line, err=True)
    run_worker(state, as_json, interval, rounds)


def _refuse_another_schema(state) -> None:
    """A server (the worker, the web inbox) does not start on a database whose schema is not this
    program's: after an upgrade without `reformflow init`, every page would fail with a bare SQL
    error and the worker would retry it forever."""
    from ..errors import Invalid
    if (refusal := state.db.schema_refusal()) is not None:
        raise Invalid(refusal)


def run_worker(state, as_json: bool, interval: float, rounds: int | None = None, stop=None) -> None:
    """Fire due timers every `interval` seconds, `rounds` times or until `stop` (a
    threading.Event) is set: `reformflow worker`, and the worker `reformflow web` runs beside
    the web inbox."""
    fired_said.warn_fixed_clock()  # before anything fires
    _say_started(state, interval)
    warned_on = None  # the Beijing day the calendar was last checked: a worker runs for months
    done = 0
    while rounds is None or done < rounds:
        failed: list[dict] = []
        committed: list[int] = []  # plans fired and committed this round, told as each commits
        try:
            if warned_on != clock.today():
                # At start and on each new day: a worker started in summer says from early October
                # (CALENDAR_LOOKAHEAD) that next year has no holidays entered, once a day until they are.
                # Reads the database: one still down at boot is retried like a lost connection,
                # instead of exiting until systemd's start limit gives up on the worker.
                _warn_calendar_gaps(state)
                warned_on = clock.today()
            # one bad plan must not stop the worker, nor the plans due after it
            fired = state.engine.fire_due_timers(progress=_timer_progress, on_fired=committed.append,
                                                 on_error=_timer_failed(failed, retrying=True))
        except Exception as exc:  # noqa: BLE001 - a lost connection or a restart: try again next round
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if committed:
                # the plans fired before the error are committed: the log must not read as if none were
                click.echo(f"worker: 本轮已触发 {len(committed)} 个方案的定时器并已提交，其后出错中断，{interval:g} 秒后重试 "
                           f"(fired timers in {len(committed)} plan(s), committed, before the round was cut short: "
                           f"{reason}; retrying in {interval:g} s)", err=True)
            else:
                click.echo(f"worker: 本轮未能运行，{interval:g} 秒后重试 ({reason}; retrying in {interval:g} s)", err=True)
            if as_json:
                click.echo(json.dumps({"at": clock.now().isoformat(), "fired_before_error": len(committed),
                                       "error": reason}, ensure_ascii=False))
            fired = []
        _worker_mail(state, as_json)  # after the timers, whatever became of them
        if as_json and (fired or failed):  # one line per round for a log collector, failures included
            click.echo(json.dumps({"at": clock.now().isoformat(), "fired": fired, "failed": failed},
                                  ensure_ascii=False))
        elif fired:
            said = fired_said.lines(fired)
            click.echo(f"{clock.now().isoformat()} {said[0]}")
            for line in said[1:]:
                click.echo(line)
        done += 1
        if rounds is None or done < rounds:
            if stop is None:
                time.sleep(interval)
            elif stop.wait(interval):
                return


def _say_started(state, interval: float) -> None:
    """One line in the log when the worker starts: which database (no password), how often, and
    whether mail goes out. A round with nothing due says nothing, to keep the journal small."""
    from sqlalchemy.engine import make_url

    from .. import mail_sender
    database = make_url(state.engine.db.url)._replace(password=None).render_as_string(hide_password=False)
    try:
        smtp = mail_sender.SmtpSettings.from_env()
        mail_zh, mail_en = (f"经 {smtp.host}:{smtp.port} 发送排队的邮件", f"sends queued mail through {smtp.host}:{smtp.port}") \
            if smtp else ("未配置 SMTP，邮件留在队列中", "no SMTP configured: mail stays queued")
    except ReformflowError:
        mail_zh, mail_en = "SMTP 设置有误，邮件留在队列中", "SMTP settings wrong: mail stays queued"
    click.echo(f"worker: 已启动，每 {interval:g} 秒一轮，触发到期的定时器、提醒和逾期上报，{mail_zh}；无事可做的一轮不记录；"
               f"数据库 {database} (started: every {interval:g} s fires due timers, reminders and escalations, "
               f"{mail_en}; a round with nothing to do logs nothing; database {database})", err=True)


def _worker_mail(state, as_json: bool) -> None:
    """The worker's round of mail: a mail server down or misconfigured is said on standard error
    and must never stop the timers."""
    from .. import mail_sender
    try:
        settings = mail_sender.SmtpSettings.from_env()
        if settings is None:
            return  # nothing to send with: the mails stay queued (`reformflow mail status`)
        _queue_digests(state, as_json)
        done = mail_sender.send_due(state.engine.db, settings)
    except Exception as exc:  # noqa: BLE001 - the timers' worker goes on; the next round tries again
        click.echo(f"worker: 本轮邮件未能发送 (mail not sent this round: {type(exc).__name__}: "
                   f"{str(exc).splitlines()[0] if str(exc) else ''})", err=True)
        return
    for e in done["errors"]:
        click.echo(f"worker: 邮件 {e['id']} 发送失败，稍后重试 (mail {e['id']} not sent, will retry): {e['error']}",
                   err=True)
    if done["sent"]:
        if as_json:
            click.echo(json.dumps({"at": clock.now().isoformat(), "mail_sent": done["sent"]}))
        else:
            click.echo(f"{clock.now().isoformat()} 已发送 {done['sent']} 封邮件 (mails sent: {done['sent']})")


def _queue_digests(state, as_json: bool) -> None:
    """The day's digests, once the time has come (a digest is only worth sending the same day: none
    is queued without a mail server, to go out days late). A wrong REFORMFLOW_DIGEST_TIME holds
    back the digest alone: the other mails still go out this round."""
    from .. import mail_digest
    try:
        digests = mail_digest.queue_due(state.engine.db)
    except ReformflowError as exc:
        click.echo(f"worker: 本轮未生成待办摘要，其他邮件照常发送 (daily digests not queued, the other mails "
                   f"are sent): {exc.message}", err=True)
        return
    if digests is not None:
        _said_digests(digests, as_json)


def _said_digests(digests: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"at": clock.now().isoformat(), "digests_queued": digests["queued"],
                               "digest_day": digests["day"]}))
    else:
        click.echo(f"{clock.now().isoformat()} 已生成 {digests['day']} 的待办摘要 {digests['queued']} 封 "
                   f"(daily digests queued: {digests['queued']})")


@command(main, "web")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 (address to listen on).")
@click.option("--port", default=5000, show_default=True, type=IntRange(1, 65535, "须为 1 至 65535"), help="端口 (port).")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="在同一进程中运行定时器工作进程；多个网页进程时只在一处运行 (run the timer worker in this process; with several web processes, run it in one place only).")
@click.option("--interval", default=30.0, show_default=True, type=FloatRange(0.1, 86400, "须为 0.1 至 86400 秒"),
              help="定时器两轮之间的秒数 (seconds between timer rounds).")
def web_cmd(state, as_json, host, port, worker, interval):
    """运行网页待办 http://127.0.0.1:5000 及定时器 (serve the web inbox, with the timer worker).

    一个进程，供本机试用和 make run；正式运行用 gunicorn 多进程，另起一个 reformflow worker，见
    docs/operations.md (one process for trying it out; in production gunicorn's web workers and
    one `reformflow worker`, docs/operations.md section 2a)."""
    import threading

    from werkzeug.serving import run_simple

    from web import create_app
    from web.settings import SettingError
    from ..errors import Invalid
    _refuse_another_schema(state)
    try:
        app = create_app(engine=state.engine)
    except SettingError as exc:  # one line, as any refusal, not a traceback
        raise Invalid(str(exc)) from None
    stop = threading.Event()
    if worker:
        threading.Thread(target=run_worker, args=(state, as_json, interval, None, stop),
                         name="reformflow-timers", daemon=True).start()
    click.echo(f"网页待办 (web inbox): http://{host}:{port}/  Ctrl+C 停止 (to stop)"
               + ("；定时器每 %g 秒运行一轮 (timers every %g s)" % (interval, interval) if worker else ""))
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stop.set()
