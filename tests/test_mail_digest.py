"""每日待办摘要: the opt-in (engine, command line, audit trail), the digest a worker's mail round
queues once each working day at or after REFORMFLOW_DIGEST_TIME (engine/mail_digest.py), what
it says, whom it reaches, and that the database keeps it to one per person per day, even with
two rounds at once; and `mail prune`. On SQLite and PostgreSQL. The pages: test_web_mail.py."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine import clock, mail_digest, mail_outbox
from engine.cli import main
from engine.errors import Invalid
from models import AuditEvent, MailDigestRound, MailMessage, User

from .conftest import FIXTURES
from .test_mail import Inbox, free_port, outbox

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"
LINK = "https://reform.example.gov.cn"


@pytest.fixture
def steps(engine, people, at, monkeypatch):
    """li (legal) may claim three 审核 steps on Monday 7 December 2026: one overdue since
    23 November, one due 14 December (within 5 working days), one due 28 December; she asked
    for the digest and has an address. zhang (drafter) holds nothing on that day."""
    monkeypatch.setenv("REFORMFLOW_BASE_URL", LINK + "/")
    monkeypatch.delenv("REFORMFLOW_DIGEST_TIME", raising=False)
    engine.deploy([(MINI.name, MINI.read_bytes())])
    ids = {}
    # 审核 is due 15 working days after the draft is sent
    for name, sent in (("overdue", "2026-11-02T10:00"), ("soon", "2026-11-23T10:00"), ("later", "2026-12-07T08:00")):
        with at(sent):
            plan = engine.start("mini_approval", actor="zhang", title=f"方案{name}")
            draft = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
            engine.complete(draft["id"], actor="zhang", data={"summary": "概要"})
            ids[name] = next(t["id"] for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Review")
    engine.update_user("li", actor="chen", email="li@legal.example.gov.cn", digest=True)
    with engine.db.transaction() as s:  # the event mails of the setup are not what is tested here
        s.query(MailMessage).delete()
    return ids


def queue(engine, moment: str, at) -> dict | None:
    with at(moment):
        return mail_digest.queue_due(engine.db)


def digests(engine) -> list[MailMessage]:
    return [m for m in outbox(engine) if m.kind == "digest"]


# ---------------------------------------------------------------- the opt-in
def test_the_opt_in_is_off_by_default_changed_by_the_person_or_the_office_and_on_the_trail(engine, people):
    with engine.db.reader() as s:
        assert s.execute(select(User.mail_digest).where(User.username == "zhang")).scalar() is False
    done = engine.set_email("zhang", "zhang@fgw.example.gov.cn", actor="zhang", digest=True)
    assert (done["changed"], done["digest"]) == (["email", "digest"], True)
    assert engine.set_email("zhang", "zhang@fgw.example.gov.cn", actor="zhang", digest=True)["changed"] == []
    # leaving the digest out (an older client) leaves it as it is
    assert engine.set_email("zhang", "zhang@fgw.example.gov.cn", actor="zhang")["changed"] == []
    assert engine.update_user("zhang", actor="chen", digest=False)["changed"] == ["digest"]
    runner, url = CliRunner(), str(engine.db.url)
    out = runner.invoke(main, ["--db", url, "users", "update", "zhang", "--digest", "--as", "chen", "--json"])
    assert out.exit_code == 0, out.output
    assert (json.loads(out.output)["changed"], json.loads(out.output)["digest"]) == (["digest"], True)
    out = runner.invoke(main, ["--db", url, "users", "update", "zhang", "--digest", "--as", "zhang"])
    assert out.exit_code != 0 and "只有改革办可以修改用户" in out.stderr  # the office's command
    with engine.db.reader() as s:
        changes = s.execute(select(AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.event_type == "user_changed").order_by(AuditEvent.seq)).all()
    assert [(actor, json.loads(p)["old"], json.loads(p)["new"]) for actor, p in changes] == [
        ("zhang", {"email": None, "digest": False}, {"email": "zhang@fgw.example.gov.cn", "digest": True}),
        ("chen", {"digest": True}, {"digest": False}),
        ("chen", {"digest": False}, {"digest": True})]


# ---------------------------------------------------------------- what it says
def test_the_digest_lists_the_overdue_then_the_due_soon_and_counts_the_rest(engine, steps, at):
    assert queue(engine, "2026-12-07T08:30", at) == {"day": "2026-12-07", "queued": 1}
    [m] = digests(engine)
    assert (m.username, m.address, m.digest_on, m.task_id) == ("li", "li@legal.example.gov.cn", date(2026, 12, 7), None)
    assert m.subject == "【待办摘要】12月7日：1 项逾期，1 项即将到期，共 3 项"
    body = m.body
    assert body.startswith("李娜：您好！")
    assert "截至 12月7日，您共有 3 项待办：1 项已逾期，1 项在 5 个工作日内到期，其他 1 项。" in body
    overdue_at, soon_at = body.index("已逾期（1 项）"), body.index("5 个工作日内到期（1 项）")
    assert overdue_at < body.index("方案overdue：审核（待认领）") < soon_at < body.index("方案soon：审核（待认领）")
    # 23 November to 7 December: 10 working days late; 14 December: 5 working days left
    assert "办理期限：2026-11-23（已逾期 10 个工作日）" in body
    assert "办理期限：2026-12-14（距期限还有 5 个工作日）" in body
    assert f"办理：{LINK}/tasks/{steps['overdue']}" in body and f"办理：{LINK}/tasks/{steps['soon']}" in body
    assert "方案later" not in body and "其他待办 1 项" in body  # counted, not listed
    assert f"我的待办：{LINK}/tasks" in body
    assert "(Your open steps on 2026-12-07: 3 in all, 1 overdue, 1 due within 5 working days, 1 more." in body
    assert "概要" not in body  # form data never leaves in a mail


def test_the_due_soon_count_agrees_with_the_inbox(engine, steps, at):
    """The digest's due soon is the inbox's 只看即将到期 (soon_by), counted the same way."""
    from engine.overview import soon_by
    from engine.queries import count_open_listed
    queue(engine, "2026-12-07T09:00", at)
    with at("2026-12-07T09:00"), engine.db.reader() as s:
        now = clock.now()
        listed, overdue, soon = count_open_listed(s, "li", "all", now, soon_by=soon_by(s.connection(), now))
    [m] = digests(engine)
    assert m.subject == f"【待办摘要】12月7日：{overdue} 项逾期，{soon} 项即将到期，共 {listed} 项"


# ---------------------------------------------------------------- when
def test_not_before_the_time_then_once_that_day_and_the_next_working_day_again(engine, steps, at):
    assert queue(engine, "2026-12-07T08:29", at) is None and digests(engine) == []
    assert queue(engine, "2026-12-07T10:00", at)["queued"] == 1  # a worker down at 08:30, started at 10:00
    assert queue(engine, "2026-12-07T10:00:30", at) is None  # the next round: done for today
    assert queue(engine, "2026-12-07T17:00", at) is None
    assert len(digests(engine)) == 1
    assert queue(engine, "2026-12-08T08:31", at)["queued"] == 1
    assert [m.digest_on for m in digests(engine)] == [date(2026, 12, 7), date(2026, 12, 8)]


def test_a_worker_started_the_next_day_sends_that_days_digest_not_yesterdays(engine, steps, at):
    assert queue(engine, "2026-12-08T11:00", at)["queued"] == 1
    [m] = digests(engine)
    assert m.digest_on == date(2026, 12, 8) and m.subject.startswith("【待办摘要】12月8日：")


def test_the_time_is_a_setting(engine, steps, at, monkeypatch):
    monkeypatch.setenv("REFORMFLOW_DIGEST_TIME", "07:45")
    assert queue(engine, "2026-12-07T07:44", at) is None
    assert queue(engine, "2026-12-07T07:45", at)["queued"] == 1
    monkeypatch.setenv("REFORMFLOW_DIGEST_TIME", "7.45")
    with pytest.raises(Invalid, match="REFORMFLOW_DIGEST_TIME"):
        mail_digest.digest_time()


def test_no_digest_on_a_weekend_or_holiday_but_on_a_swapped_working_saturday(engine, steps, at):
    assert queue(engine, "2026-12-12T09:00", at) is None  # a Saturday
    assert queue(engine, "2026-10-01T09:00", at) is None  # National Day
    assert queue(engine, "2026-10-10T09:00", at)["day"] == "2026-10-10"  # the Saturday worked for it
    # a day the office entered as a holiday (the calendar's entries count)
    engine.set_calendar_day(date(2026, 12, 9), working=False, note="调休", actor="chen")
    assert queue(engine, "2026-12-09T09:00", at) is None
    assert [m.digest_on for m in digests(engine)] == [date(2026, 10, 10)]


# ---------------------------------------------------------------- whom
def test_only_people_who_asked_have_an_address_are_active_and_have_open_steps(engine, steps, at):
    # each of these may claim the three 审核 steps as li may
    engine.update_user("chen", actor="chen", email="chen@reform.example.gov.cn")  # not asked for
    engine.add_user("qian", "钱程", groups=["legal"])
    engine.update_user("qian", actor="chen", digest=True)  # asked, no address
    engine.add_user("feng", "冯远", groups=["legal"], email="feng@legal.example.gov.cn")
    engine.update_user("feng", actor="chen", digest=True)
    engine.deactivate_user("feng", actor="chen")  # asked, left
    engine.update_user("wu", actor="chen", email="wu@expert.example.gov.cn", digest=True)  # asked, no open steps
    assert queue(engine, "2026-12-07T09:00", at)["queued"] == 1
    assert [m.username for m in digests(engine)] == ["li"]
    engine.update_user("chen", actor="chen", digest=True)  # the same set-up, chen asks: his the next day
    queue(engine, "2026-12-08T09:00", at)
    assert sorted(m.username for m in digests(engine) if m.digest_on == date(2026, 12, 8)) == ["chen", "li"]


def test_the_colleague_acting_for_someone_away_gets_their_steps_saying_for_whom(engine, steps, at):
    engine.update_user("zhou", actor="chen", email="zhou@risk.example.gov.cn", digest=True)
    with at("2026-12-07T08:00"):
        engine.delegate("li", to="zhou", starts_on=clock.today(), ends_on=clock.today(), reason="出差", actor="li")
    queue(engine, "2026-12-07T09:00", at)
    to_zhou = next(m for m in digests(engine) if m.username == "zhou")
    assert to_zhou.subject == "【待办摘要】12月7日：1 项逾期，1 项即将到期，共 3 项"
    assert "方案overdue：审核（代李娜，待认领）" in to_zhou.body
    assert sorted(m.username for m in digests(engine)) == ["li", "zhou"]  # li's own, as ever
    # the delegation is over the next day: zhou holds nothing of his own
    queue(engine, "2026-12-08T09:00", at)
    assert sorted((m.username, m.digest_on.day) for m in digests(engine)) == [
        ("li", 7), ("li", 8), ("zhou", 7)]


# ---------------------------------------------------------------- once
def test_the_database_refuses_a_second_digest_for_a_person_and_day(engine, steps, at):
    queue(engine, "2026-12-07T09:00", at)
    [m] = digests(engine)
    with pytest.raises(IntegrityError), engine.db.transaction() as s:
        s.add(MailMessage(username="li", address=m.address, subject="again", body="again", kind="digest",
                          created_at=m.created_at, attempts=0, next_try_at=m.created_at, digest_on=m.digest_on))
    with engine.db.transaction() as s:  # event mails (no day) to the same person are never refused
        s.add_all([MailMessage(username="li", address=m.address, subject=f"event {n}", body="正文", kind="task_new",
                               created_at=m.created_at, attempts=0, next_try_at=m.created_at) for n in range(2)])
    assert [x.kind for x in outbox(engine)] == ["digest", "task_new", "task_new"]


def test_two_rounds_at_once_queue_one_digest(postgres_db, monkeypatch):
    """Two workers' rounds on PostgreSQL, both reading the digests before either writes: the
    second's INSERT of the day fails on its key, and all its mails roll back with it."""
    from engine.commands import Engine

    from .conftest import add_people
    engine = Engine(postgres_db)
    add_people(engine)
    engine.deploy([(MINI.name, MINI.read_bytes())])
    clock.set_override(datetime.fromisoformat("2026-12-07T08:00+08:00"))
    plan = engine.start("mini_approval", actor="zhang", title="并发方案")
    engine.set_email("zhang", "zhang@fgw.example.gov.cn", actor="zhang", digest=True)
    clock.set_override(datetime.fromisoformat("2026-12-07T09:00+08:00"))
    both_read = threading.Barrier(2, timeout=30)
    original = mail_digest._digests

    def read_then_wait(*args):
        found = original(*args)
        both_read.wait()  # neither writes until both have read
        return found
    monkeypatch.setattr(mail_digest, "_digests", read_then_wait)
    results = []
    threads = [threading.Thread(target=lambda: results.append(mail_digest.queue_due(engine.db))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=lambda r: r is None) == [{"day": "2026-12-07", "queued": 1}, None]
    assert [(m.username, m.digest_on) for m in digests(engine)] == [("zhang", date(2026, 12, 7))]
    assert plan["id"] and "起草" in digests(engine)[0].body


def test_the_worker_queues_and_sends_the_digest_in_its_mail_round(engine, steps, monkeypatch):
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(controller.port)), ("FROM", "reformflow@example.gov.cn")):
        monkeypatch.setenv(f"REFORMFLOW_SMTP_{name}", value)
    runner, url, said = CliRunner(), str(engine.db.url), []
    try:
        for _ in range(2):  # a second worker (or a restart) the same morning queues nothing more
            out = runner.invoke(main, ["--db", url, "--now", "2026-12-07T08:45", "worker", "--rounds", "1",
                                       "--interval", "0"])
            assert out.exit_code == 0, out.output
            said.append(out.output)
    finally:
        controller.stop()
    assert "已生成 2026-12-07 的待办摘要 1 封" in said[0] and "待办摘要" not in said[1]
    [(rcpt, message)] = inbox.received
    assert rcpt == ["li@legal.example.gov.cn"]
    assert message["Subject"] == "【待办摘要】12月7日：1 项逾期，1 项即将到期，共 3 项"
    assert digests(engine)[0].sent_at is not None


def test_mail_send_queues_the_day_s_digest_first_as_the_worker_does(engine, steps, monkeypatch):
    """An operator who sends by hand (a cron job, or the worker stopped) gets the morning's digests
    out too, once: a later `mail send` or worker round that day queues none again."""
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(controller.port)), ("FROM", "reformflow@example.gov.cn")):
        monkeypatch.setenv(f"REFORMFLOW_SMTP_{name}", value)
    runner, url = CliRunner(), str(engine.db.url)
    try:
        early = runner.invoke(main, ["--db", url, "--now", "2026-12-07T08:00", "mail", "send", "--json"])
        first = runner.invoke(main, ["--db", url, "--now", "2026-12-07T08:45", "mail", "send"])
        again = runner.invoke(main, ["--db", url, "--now", "2026-12-07T10:00", "mail", "send", "--json"])
        worker = runner.invoke(main, ["--db", url, "--now", "2026-12-07T10:05", "worker", "--rounds", "1",
                                      "--interval", "0"])
    finally:
        controller.stop()
    assert all(out.exit_code == 0 for out in (early, first, again, worker)), first.output
    assert json.loads(early.output)["digests_queued"] == 0  # before 08:30: not yet
    assert "已生成 2026-12-07 的待办摘要 1 封" in first.output and "已发送 1 封" in first.output
    assert json.loads(again.output)["digest_day"] is None and "待办摘要" not in worker.output
    [(rcpt, message)] = inbox.received
    assert rcpt == ["li@legal.example.gov.cn"] and message["Subject"].startswith("【待办摘要】12月7日")


def test_without_a_mail_server_no_digest_is_queued(engine, steps, monkeypatch):
    monkeypatch.delenv("REFORMFLOW_SMTP_HOST", raising=False)
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "--now", "2026-12-07T09:00", "worker", "--rounds",
                                    "1", "--interval", "0"])
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "--now", "2026-12-07T09:00", "mail", "send"])
    assert out.exit_code == 0, out.output
    assert digests(engine) == []  # not to go out days late once the server is set


# ---------------------------------------------------------------- prune
def test_prune_deletes_old_sent_and_given_up_mails_never_queued_or_failing_ones(engine, people, at):
    now = datetime.fromisoformat("2026-12-07T09:00+08:00")
    old, recent = now - timedelta(days=120), now - timedelta(days=10)

    def mail(name, *, created, sent=None, attempts=0, next_try=None):
        return MailMessage(username=name, address=f"{name}@example.gov.cn", subject=name, body="正文", kind="task_new",
                           created_at=created, sent_at=sent, attempts=attempts, next_try_at=next_try)
    with engine.db.transaction() as s:
        s.add_all([mail("old_sent", created=old, sent=old), mail("old_sent2", created=old, sent=old + timedelta(days=1)),
                   mail("recent_sent", created=recent, sent=recent),
                   mail("old_given_up", created=old, attempts=8),
                   mail("recent_given_up", created=recent, attempts=8),
                   mail("old_queued", created=old, next_try=old),
                   mail("old_failing", created=old, attempts=3, next_try=now + timedelta(hours=2))])
        s.add_all([MailDigestRound(day=date(2026, 8, 1), queued_at=old, mails=0),
                   MailDigestRound(day=date(2026, 12, 7), queued_at=now, mails=0)])
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "--now", now.isoformat(), "mail", "prune", "--json"])
    assert out.exit_code == 0, out.output
    done = json.loads(out.output)
    assert (done["deleted"], done["sent"], done["gave_up"], done["digest_rounds"]) == (3, 2, 1, 1)
    assert sorted(m.username for m in outbox(engine)) == [
        "old_failing", "old_queued", "recent_given_up", "recent_sent"]
    with at("2026-12-07T09:00"):
        assert mail_outbox.prune(engine.db, 5)["deleted"] == 2  # the recent ones too, with a shorter age
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "mail", "prune", "--older-than", "0"])
    assert out.exit_code == 2 and "须为 1 或更大的天数" in out.stderr
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "--now", now.isoformat(), "mail", "prune"])
    assert out.exit_code == 0 and "已删除 0 封 90 天以前的邮件" in out.output
    with engine.db.reader() as s:  # today's round stays: today's digests are not queued again
        assert [r.day for r in s.execute(select(MailDigestRound)).scalars()] == [date(2026, 12, 7)]


def test_a_wrong_digest_time_holds_back_the_digest_alone_and_status_and_the_page_say_so(engine, steps, monkeypatch):
    """REFORMFLOW_DIGEST_TIME=8.30 stopped every mail of every round, while `mail status` said
    config_error null: now the other mails go out and the setting is reported where monitoring looks."""
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(controller.port)), ("FROM", "reformflow@example.gov.cn")):
        monkeypatch.setenv(f"REFORMFLOW_SMTP_{name}", value)
    monkeypatch.setenv("REFORMFLOW_DIGEST_TIME", "8.30")
    from engine import urging
    urging.urge(engine, steps["overdue"], actor="chen", note="请尽快办理")  # an urgent mail to li
    runner, url = CliRunner(), str(engine.db.url)
    try:
        worker = runner.invoke(main, ["--db", url, "--now", "2026-12-07T09:00", "worker", "--rounds", "1",
                                      "--interval", "0"])
        assert worker.exit_code == 0, worker.output
        assert "本轮未生成待办摘要，其他邮件照常发送" in worker.stderr and "REFORMFLOW_DIGEST_TIME" in worker.stderr
        assert len(inbox.received) == 1 and digests(engine) == []
        urging.urge(engine, steps["soon"], actor="chen")
        by_hand = runner.invoke(main, ["--db", url, "--now", "2026-12-07T09:05", "mail", "send", "--json"])
    finally:
        controller.stop()
    assert by_hand.exit_code == 0, by_hand.output
    sent = json.loads(by_hand.stdout)
    assert sent["sent"] == 1 and "REFORMFLOW_DIGEST_TIME" in sent["digest_error"]
    assert len(inbox.received) == 2 and digests(engine) == []
    assert all(m.sent_at is not None for m in outbox(engine))
    status = json.loads(runner.invoke(main, ["--db", url, "mail", "status", "--json"]).output)
    assert status["configured"] is True and "REFORMFLOW_DIGEST_TIME" in status["config_error"]
    from web import create_app
    from .test_web_security import _sign_in
    engine.set_password("chen", "Reform-office-2026", actor="chen", first=True)
    client = create_app(engine=engine, secret_key="test-secret", testing=True).test_client()
    assert _sign_in(client, "chen", "Reform-office-2026").status_code == 302
    assert "REFORMFLOW_DIGEST_TIME 须为北京时间 时:分" in client.get("/mail").get_data(as_text=True)
