"""邮件提醒: the mails an action queues in its own transaction (engine/mail.py), and sending them
through a real SMTP server (aiosmtpd on 127.0.0.1) with retries (engine/mail_sender.py); the
outbox's state and the command line. On SQLite and PostgreSQL. The pages: test_web_mail.py."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import func, select, text

from engine import audit, clock, mail_outbox, mail_sender, urging
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid
from engine.mail_sender import SmtpSettings
from models import AuditEvent, MailMessage, User

from .conftest import FIXTURES
from .plan_helper import Plan, audit_payloads

MINI = FIXTURES / "diagrams" / "mini_approval.bpmn"
TITLE = "优化营商环境改革方案"


class Inbox:
    """What the SMTP server received: (recipients, parsed message) each."""

    def __init__(self, delay: float = 0):
        self.received, self.delay, self.refuse = [], delay, None

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free port; yields (its inbox, the settings to reach it)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, SmtpSettings("127.0.0.1", controller.port, None, None, "reformflow@reform.example.gov.cn", "none", 5)
    controller.stop()


@pytest.fixture
def mini(engine, people, monkeypatch):
    """mini_approval deployed; li (legal) and zhang (drafter) have addresses, chen (office) none."""
    monkeypatch.setenv("REFORMFLOW_BASE_URL", "https://reform.example.gov.cn/")
    engine.deploy([(MINI.name, MINI.read_bytes())])
    engine.update_user("li", actor="chen", email="li@legal.example.gov.cn")
    engine.set_email("zhang", "zhang@fgw.example.gov.cn", actor="zhang")
    return engine


def outbox(engine) -> list[MailMessage]:
    with engine.db.reader() as s:
        rows = s.execute(select(MailMessage).order_by(MailMessage.id)).scalars().all()
        s.expunge_all()
        return rows


def start(engine) -> tuple[int, dict]:
    """zhang starts a plan and sends its draft: 审核 opens for legal and the reform office."""
    plan = engine.start("mini_approval", actor="zhang", title=TITLE)
    draft = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
    engine.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    review = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Review")
    return plan["id"], review


# ---------------------------------------------------------------- what is queued
def test_a_new_step_is_mailed_to_each_candidate_with_an_address_and_not_to_whoever_acted(mini, smtp, at):
    inbox, settings = smtp
    with at("2026-03-02T09:00:00"):  # a Monday
        plan_id, review = start(mini)
    # zhang's own 起草 (he started the plan) is not mailed to him; 审核 goes to li, who has an
    # address, not to chen (reform_office, no address)
    assert [(m.username, m.kind, m.task_id, m.address) for m in outbox(mini)] == [
        ("li", "task_new", review["id"], "li@legal.example.gov.cn")]
    with at("2026-03-02T09:01:00"):
        done = mail_sender.send_due(mini.db, settings)
    assert (done["sent"], done["failed"]) == (1, 0)
    [(rcpt, message)] = inbox.received
    assert rcpt == ["li@legal.example.gov.cn"]
    assert message["From"] == "reformflow@reform.example.gov.cn"
    assert message["Subject"] == f"【待办】{TITLE}：审核"
    body = message.get_content()
    assert f"方案：{TITLE}" in body and "环节：审核" in body
    # workingDays(15) from Monday 2 March 2026: to Monday 23 March, 15 working days left
    assert "办理期限：2026-03-23（距期限还有 15 个工作日）" in body
    assert f"办理：https://reform.example.gov.cn/tasks/{review['id']}" in body
    assert "概要" not in body  # form data never leaves in a mail
    [sent] = outbox(mini)
    assert sent.sent_at == datetime.fromisoformat("2026-03-02T01:01:00+00:00") and sent.next_try_at is None
    # sent once: a second round sends nothing again
    with at("2026-03-02T09:30:00"):
        assert mail_sender.send_due(mini.db, settings)["sent"] == 0
    assert len(inbox.received) == 1


def test_without_a_base_url_the_mail_says_to_open_the_inbox(mini, monkeypatch):
    monkeypatch.delenv("REFORMFLOW_BASE_URL")
    start(mini)
    [m] = outbox(mini)
    assert "/tasks/" not in m.body and "在“我的待办”中查看并办理" in m.body


def test_a_group_member_outside_the_unit_a_step_is_kept_to_gets_no_mail(engine, people):
    from engine import mail
    engine.update_user("wang", actor="chen", email="wang@example.gov.cn", unit="市发改委")
    engine.update_user("zhang", actor="chen", email="zhang@example.gov.cn")
    with engine.db.reader() as s:
        people_found = mail._people_with_address(s.connection(), [(None, "task_new", (None, ["drafter"], [], "市财政局"))],
                                                 clock.today())
    assert mail._recipients((None, ["drafter"], [], "市财政局"), people_found) == ["zhang"]
    assert mail._recipients((None, ["drafter"], [], None), people_found) == ["wang", "zhang"]
    assert mail._recipients((None, [], ["wang"], "市财政局"), people_found) == ["wang"]  # named: wherever they work


def test_nobody_with_an_address_nothing_is_queued(engine, people):
    engine.deploy([(MINI.name, MINI.read_bytes())])
    start(engine)
    assert outbox(engine) == []


def test_an_action_rolled_back_queues_nothing_and_a_refused_one_neither(mini, monkeypatch):
    plan = mini.start("mini_approval", actor="zhang", title=TITLE)
    draft = next(t for t in mini.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
    with pytest.raises(Invalid):  # 方案摘要 is required: refused before anything is done
        mini.complete(draft["id"], actor="zhang", data={})
    assert outbox(mini) == []

    def fail(self, session):  # the commit fails after the mails were queued
        raise RuntimeError("disk full")
    monkeypatch.setattr(audit.AuditLog, "flush", fail)
    with pytest.raises(RuntimeError):
        mini.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    monkeypatch.undo()
    assert outbox(mini) == []  # 审核 was opened and mailed in the transaction rolled back
    assert [t["element_id"] for t in mini.instance(plan["id"])["tasks"]] == ["Task_Draft"]
    mini.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    assert [m.username for m in outbox(mini)] == ["li"]


def test_the_office_assigning_a_step_mails_the_new_holder(mini, smtp):
    inbox, settings = smtp
    _, review = start(mini)
    mini.assign(review["id"], to="li", actor="chen")
    assert [(m.username, m.kind) for m in outbox(mini)] == [("li", "task_new"), ("li", "task_assigned")]
    mail_sender.send_due(mini.db, settings)
    assigned = inbox.to("li@legal.example.gov.cn")[1]
    assert assigned["Subject"] == f"【指派】{TITLE}：审核"
    assert "指派人：陈静" in assigned.get_content()


def test_urging_mails_the_holder_or_else_the_candidates_with_the_note(mini, smtp):
    inbox, settings = smtp
    plan = mini.start("mini_approval", actor="zhang", title=TITLE)
    draft = next(t for t in mini.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
    urging.urge(mini, draft["id"], actor="chen", note="请于本周五前报送初稿。")
    mini.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    review = next(t for t in mini.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Review")
    urging.urge(mini, review["id"], actor="chen")  # open: its candidates with an address (li)
    assert [(m.username, m.kind) for m in outbox(mini)] == [
        ("zhang", "task_urged"), ("li", "task_new"), ("li", "task_urged")]
    mail_sender.send_due(mini.db, settings)
    [urged] = inbox.to("zhang@fgw.example.gov.cn")
    assert urged["Subject"] == f"【催办】{TITLE}：起草"
    body = urged.get_content()
    assert "催办人：陈静" in body and "催办说明：请于本周五前报送初稿。" in body
    assert "催办说明：请抓紧办理。" in inbox.to("li@legal.example.gov.cn")[1].get_content()


def test_a_reminder_mails_the_reviewer_and_the_overdue_escalation_the_office(library, at):
    library.update_user("li", actor="chen", email="li@legal.example.gov.cn")
    library.set_email("chen", "chen@reform.example.gov.cn", actor="chen")
    with at("2025-09-26T09:00:00"):
        plan = Plan(library, title=TITLE)
        plan.run_until("Task_CheckMaterials")
        plan.do("Task_CheckMaterials", reviewDays=7)
    before = len(outbox(library))
    assert plan.fire_timers_at(at, "2025-10-13T23:00:00") == ["Event_ReviewReminder"]
    [reminded] = outbox(library)[before:]
    [review] = [t for t in plan.refresh()["tasks"] if t["element_id"] == "Task_LegalityReview"]
    assert (reminded.username, reminded.kind, reminded.task_id) == ("li", "task_reminded", review["id"])
    assert reminded.subject == f"【提醒】{TITLE}：{review['name']}"
    assert "办理期限：2025-10-13（今天到期）" in reminded.body
    assert plan.fire_timers_at(at, "2025-10-14T00:00:01") == ["Event_ReviewOverdue"]
    [overdue] = outbox(library)[before + 1:]
    assert (overdue.username, overdue.kind) == ("chen", "task_overdue")
    assert overdue.subject.startswith("【逾期】") and "已上报至您处处理" in overdue.body
    assert audit_payloads(library, plan.id, "task_reminded")[0]["to"] in (["li"], ["group:legal"])


# ---------------------------------------------------------------- addresses
def test_addresses_are_checked_and_changes_are_on_the_trail(engine, people):
    with pytest.raises(Invalid, match=r"邮箱地址“li@legal”格式不正确.*\(not an email address"):
        engine.set_email("li", "li@legal", actor="li")
    with pytest.raises(Invalid):
        engine.update_user("li", actor="chen", email="李娜 <li@legal.gov.cn>")
    with pytest.raises(Forbidden):
        engine.set_email("li", "li@legal.gov.cn", actor="zhang")  # not theirs, not the office
    assert engine.set_email("li", " li@legal.gov.cn ", actor="li")["changed"] == ["email"]
    assert engine.set_email("li", "li@legal.gov.cn", actor="li")["changed"] == []  # nothing new: no event
    assert engine.update_user("li", actor="chen", email="")["changed"] == ["email"]  # cleared
    added = engine.add_user("qian", "钱程", groups=["legal"], email="qian@legal.gov.cn")
    assert added["email"] == "qian@legal.gov.cn"
    with engine.db.reader() as s:
        changes = [(e.actor, json.loads(e.payload)) for e in s.execute(
            select(AuditEvent).where(AuditEvent.event_type.in_(("user_changed", "user_added")))
            .order_by(AuditEvent.seq)).scalars()
            if (e.event_type, json.loads(e.payload).get("username")) in (("user_changed", "li"), ("user_added", "qian"))]
        assert s.execute(select(User.email).where(User.username == "li")).scalar() is None
    assert changes == [
        ("li", {"username": "li", "old": {"email": None}, "new": {"email": "li@legal.gov.cn"}}),
        ("chen", {"username": "li", "old": {"email": "li@legal.gov.cn"}, "new": {"email": None}}),
        ("system", {"username": "qian", "display_name": "钱程", "groups": ["legal"], "unit": None,
                    "email": "qian@legal.gov.cn"})]


# ---------------------------------------------------------------- sending
def test_a_server_down_counts_an_attempt_backs_off_and_a_later_round_sends(mini, at):
    with at("2026-03-02T09:00:00"):
        start(mini)
    port = free_port()  # nothing listens there yet
    settings = SmtpSettings("127.0.0.1", port, None, None, "reformflow@reform.example.gov.cn", "none", 5)
    with at("2026-03-02T09:00:10"):
        done = mail_sender.send_due(mini.db, settings)
    assert (done["sent"], done["failed"]) == (0, 1)
    [m] = outbox(mini)
    assert (m.attempts, m.sent_at) == (1, None)
    assert "ConnectionRefusedError" in m.last_error
    assert m.next_try_at == datetime.fromisoformat("2026-03-02T01:01:10+00:00")  # a minute later
    with at("2026-03-02T09:00:40"):  # not yet due: not tried
        assert mail_sender.send_due(mini.db, settings)["failed"] == 0
    with at("2026-03-02T09:01:10"):
        mail_sender.send_due(mini.db, settings)
    [m] = outbox(mini)
    assert (m.attempts, m.next_try_at) == (2, datetime.fromisoformat("2026-03-02T01:06:10+00:00"))  # 5 min
    status = cli_status(mini)
    assert (status["queued"], status["failing"], status["sent"]) == (1, 1, 0)
    assert status["failures"][0]["last_error"].startswith("ConnectionRefusedError")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with at("2026-03-02T09:06:10"):
            assert mail_sender.send_due(mini.db, settings)["sent"] == 1
    finally:
        controller.stop()
    [m] = outbox(mini)
    assert m.sent_at is not None and m.last_error is None and m.attempts == 2
    assert len(inbox.received) == 1


def test_a_refused_message_is_given_up_after_its_attempts_and_the_office_may_retry_it(mini, smtp, at):
    inbox, settings = smtp
    inbox.refuse = "554 mailbox unavailable"
    with at("2026-03-02T09:00:00"):
        start(mini)
    moment = datetime.fromisoformat("2026-03-02T09:00:00")
    for n in range(mail_sender.MAX_ATTEMPTS):
        with clock.frozen(moment):
            assert mail_sender.send_due(mini.db, settings)["failed" if n < mail_sender.MAX_ATTEMPTS - 1
                                                             else "gave_up"] == 1
        moment += mail_sender.backoff(n + 1)
    [m] = outbox(mini)
    assert (m.attempts, m.next_try_at, m.sent_at) == (mail_sender.MAX_ATTEMPTS, None, None)
    assert "554" in m.last_error
    with clock.frozen(moment + timedelta(days=30)):
        assert mail_sender.send_due(mini.db, settings)["failed"] == 0  # given up: not tried
    with mini.db.reader() as s:
        status = mail_outbox.status(s, configured=True)
    assert (status["queued"], status["gave_up"], status["failures"][0]["gave_up"]) == (0, 1, True)
    with pytest.raises(Forbidden):
        mail_outbox.retry(mini, m.id, actor="li")
    inbox.refuse = None
    mail_outbox.retry(mini, m.id, actor="chen")
    assert mail_sender.send_due(mini.db, settings)["sent"] == 1
    assert len(inbox.received) == 1
    with mini.db.reader() as s:
        assert s.execute(select(func.count()).where(AuditEvent.event_type == "mail_retried")).scalar() == 1


def test_a_mail_sent_again_after_a_restore_has_the_message_id_it_had_so_clients_show_it_once(mini, smtp, at):
    """A restore brings back the outbox as it was at the backup: the mails sent since are sent again.
    Their Message-ID was random each time, so every mail client showed both."""
    inbox, settings = smtp
    with at("2026-03-02T09:00:00"):
        start(mini)
    [queued] = outbox(mini)
    with at("2026-03-02T09:01:00"):
        assert mail_sender.send_due(mini.db, settings)["sent"] == 1
    with mini.db.transaction() as s:  # the backup's row: not yet sent
        s.execute(text("UPDATE mail_outbox SET sent_at = NULL, next_try_at = :due"), {"due": queued.next_try_at})
    with at("2026-03-02T10:00:00"):
        assert mail_sender.send_due(mini.db, settings)["sent"] == 1
        start(mini)  # another mail: another Message-ID
        assert mail_sender.send_due(mini.db, settings)["sent"] == 1
    first, again, other = (message["Message-ID"] for _, message in inbox.received)
    assert first == again == f"<reformflow.{queued.id}.20260302010000000000@reform.example.gov.cn>"
    assert other != first and other.endswith("@reform.example.gov.cn>")
    # a restore gives a sent mail's id to the next one queued: its time tells them apart
    later = type("Row", (), {"id": queued.id, "created_at": queued.created_at + timedelta(seconds=1)})
    assert mail_sender.message_id(settings, later) != first


def test_without_smtp_settings_nothing_is_sent_and_the_status_says_so(mini, monkeypatch):
    start(mini)
    monkeypatch.delenv("REFORMFLOW_SMTP_HOST", raising=False)
    assert mail_sender.SmtpSettings.from_env() is None
    assert mail_sender.send_due(mini.db, None) == {"configured": False, "sent": 0, "failed": 0, "gave_up": 0,
                                                    "errors": []}
    [m] = outbox(mini)
    assert (m.attempts, m.sent_at) == (0, None)
    with pytest.raises(Conflict, match="尚未发送失败"):  # only a failed mail is tried again
        mail_outbox.retry(mini, m.id, actor="chen")
    runner = CliRunner()
    url = str(mini.db.url)
    out = runner.invoke(main, ["--db", url, "mail", "status"])
    assert out.exit_code == 0, out.output
    assert "未配置 SMTP" in out.output and "排队 1 封" in out.output
    out = runner.invoke(main, ["--db", url, "mail", "send"])
    assert out.exit_code == 0 and "未发送任何邮件" in out.output
    assert outbox(mini)[0].sent_at is None


def test_the_command_line_sends_and_reports(mini, smtp, monkeypatch):
    inbox, settings = smtp
    start(mini)
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(settings.port)), ("FROM", settings.sender)):
        monkeypatch.setenv(f"REFORMFLOW_SMTP_{name}", value)
    runner, url = CliRunner(), str(mini.db.url)
    out = runner.invoke(main, ["--db", url, "mail", "send", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["sent"] == 1
    assert [rcpt for rcpt, _ in inbox.received] == [["li@legal.example.gov.cn"]]
    out = runner.invoke(main, ["--db", url, "mail", "status", "--json"])
    status = json.loads(out.output)
    assert (status["configured"], status["queued"], status["sent"], status["oldest_queued_at"]) == (True, 0, 1, None)
    # addresses on the command line
    out = runner.invoke(main, ["--db", url, "users", "add", "qian", "--display-name", "钱程", "--email", "bad"])
    assert out.exit_code != 0 and "格式不正确" in out.stderr
    out = runner.invoke(main, ["--db", url, "users", "add", "qian", "--display-name", "钱程", "--group", "legal",
                               "--email", "qian@legal.gov.cn"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, ["--db", url, "users", "update", "qian", "--email", "", "--as", "chen", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["changed"] == ["email"]
    # the worker's round sends too, and a mail server down never stops its timers
    monkeypatch.setenv("REFORMFLOW_SMTP_PORT", str(free_port()))
    start(mini)
    out = runner.invoke(main, ["--db", url, "worker", "--rounds", "1", "--interval", "0"])
    assert out.exit_code == 0, out.output
    assert "发送失败" in out.stderr
    assert outbox(mini)[-1].attempts == 1


def test_two_senders_at_once_never_send_one_message_twice(postgres_db):
    from engine.commands import Engine
    engine = Engine(postgres_db)
    now = clock.now()
    with postgres_db.transaction() as s:
        s.add_all([MailMessage(username="li", address=f"li{n}@legal.gov.cn", subject=f"第 {n} 封", body="正文",
                               kind="task_new", created_at=now, attempts=0, next_try_at=now) for n in range(40)])
    inbox = Inbox(delay=0.005)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = SmtpSettings("127.0.0.1", controller.port, None, None, "reformflow@reform.example.gov.cn", "none", 5)
    results, go = [], threading.Barrier(2)

    def sender():
        go.wait()
        results.append(mail_sender.send_due(engine.db, settings))
    try:
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        controller.stop()
    addresses = [rcpt[0] for rcpt, _ in inbox.received]
    assert sorted(addresses) == sorted(f"li{n}@legal.gov.cn" for n in range(40))  # each once
    assert sum(r["sent"] for r in results) == 40 and all(r["sent"] for r in results)  # both took part
    assert all(m.sent_at is not None for m in outbox(engine))


def cli_status(engine) -> dict:
    """`reformflow mail status --json`, read."""
    out = CliRunner().invoke(main, ["--db", str(engine.db.url), "mail", "status", "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_a_title_with_a_line_break_stays_one_subject_line_and_a_chinese_mailbox_is_refused(mini, smtp):
    inbox, settings = smtp
    with pytest.raises(Invalid, match="格式不正确"):
        mini.set_email("li", "李娜@legal.example.gov.cn", actor="li")
    with pytest.raises(Invalid, match="控制字符"):  # refused at start since 5 December 2026 ...
        mini.start("mini_approval", actor="zhang", title="第一行\r\nBcc: everyone@example.gov.cn")
    plan = mini.start("mini_approval", actor="zhang", title="第一行")
    with mini.db.engine.begin() as conn:  # ... but a plan started before keeps its title
        conn.execute(text("UPDATE process_instances SET title = :t WHERE id = :id"),
                     {"t": "第一行\r\nBcc: everyone@example.gov.cn", "id": plan["id"]})
    draft = next(t for t in mini.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
    mini.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    assert mail_sender.send_due(mini.db, settings)["sent"] == 1
    [(rcpt, message)] = inbox.received
    assert rcpt == ["li@legal.example.gov.cn"] and message["Bcc"] is None
    assert message["Subject"] == "【待办】第一行 Bcc: everyone@example.gov.cn：审核"


def test_without_addresses_a_new_step_costs_no_statement_for_mail_and_with_one_a_single_query(engine, people):
    from .test_statement_counts import counted
    engine.deploy([(MINI.name, MINI.read_bytes())])
    engine.start("mini_approval", actor="zhang", title=TITLE)  # warm the caches
    with counted(engine.db) as statements:
        engine.start("mini_approval", actor="zhang", title=TITLE)
    without = len(statements)
    assert not [s for s in statements if "email" in s.split("RETURNING")[0]]
    engine.set_email("li", "li@legal.example.gov.cn", actor="li")
    with counted(engine.db) as statements:
        engine.start("mini_approval", actor="zhang", title=TITLE)
    assert len(statements) == without + 1  # the people with an address among 起草's (zhang: none)
    assert outbox(engine) == []


def test_a_step_sent_back_to_the_reviewer_who_just_sent_it_mails_nobody_else(library, at):
    """A meeting that decides to discuss a plan again goes back to the record of the meeting
    (deliberation's 需再次讨论？), claimed by the office member who recorded it
    (Engine._return_to_sender): not a new step for the group's others."""
    library.add_user("qian", "钱程", groups=["reform_office"], email="qian@office.example.gov.cn")
    with at("2025-09-26T09:00:00"):
        plan = Plan(library, title=TITLE)
        plan.run_until("Task_LeadershipGroupMeeting", Task_RegisterPlan={"category": "major"})
        first = plan.task("Task_LeadershipGroupMeeting")
        plan.do("Task_LeadershipGroupMeeting", decision="discuss_again")  # back to the recorder
        again = plan.task("Task_LeadershipGroupMeeting")
    assert again["id"] != first["id"] and again["assignee"] == "chen"
    # the first review opened for the office: mailed to qian, who has an address
    assert [(m.username, m.task_id) for m in outbox(library) if m.task_id == first["id"]] == [("qian", first["id"])]
    # the second is chen's own again: qian, a candidate of the step as the diagram has it, gets nothing
    assert [(m.username, m.kind) for m in outbox(library) if m.task_id == again["id"]] == []


def test_the_colleague_acting_for_someone_away_is_mailed_too_saying_for_whom(mini, smtp, at):
    """委托办理: li is away and zhou acts for her; li's new step reaches zhou (who has an address)
    as well as li, and zhou's mail says whom it is for. When the delegation ends, only li's."""
    inbox, settings = smtp
    mini.set_email("zhou", "zhou@legal.example.gov.cn", actor="zhou")
    with at("2026-03-02T09:00:00"):
        made = mini.delegate("li", to="zhou", starts_on=clock.today(), ends_on=clock.today(), reason="出差",
                             actor="li")
        _, review = start(mini)
    assert sorted((m.username, m.kind, m.task_id) for m in outbox(mini)) == [
        ("li", "task_new", review["id"]), ("zhou", "task_new", review["id"])]
    with at("2026-03-02T09:01:00"):
        mail_sender.send_due(mini.db, settings)
    [to_zhou] = inbox.to("zhou@legal.example.gov.cn")
    assert to_zhou["Subject"] == f"【待办·代李娜】{TITLE}：审核"
    body = to_zhou.get_content()
    assert body.startswith("周杰：您好！") and "李娜委托您在其离岗期间代为办理。李娜有一项新的待办事项。" in body
    assert f"/tasks/{review['id']}" in body
    assert "代" not in inbox.to("li@legal.example.gov.cn")[0]["Subject"]  # li's own mail is as ever
    # urged while she is away: both again; the colleague never mails himself for his own action
    with at("2026-03-02T10:00:00"):
        urging.urge(mini, review["id"], actor="chen")
    assert sorted(m.username for m in outbox(mini) if m.kind == "task_urged") == ["li", "zhou"]
    with at("2026-03-02T10:05:00"):
        mini.end_delegation(made["id"], actor="li")
        urging.urge(mini, review["id"], actor="chen", note="请今天办结。")
    assert [m.username for m in outbox(mini) if m.kind == "task_urged"][2:] == ["li"]


def test_a_step_handed_back_when_its_holder_leaves_is_mailed_to_its_candidates(mini, smtp):
    """A leaver's step goes back to its group: the others who may take it hear of it, told why."""
    inbox, settings = smtp
    mini.add_user("qian", "钱芳", groups=["legal"])
    _, review = start(mini)
    mini.claim(review["id"], actor="qian")
    before = len(outbox(mini))
    assert mini.deactivate_user("qian", actor="chen")["returned"]
    [returned] = outbox(mini)[before:]
    assert (returned.username, returned.kind, returned.task_id) == ("li", "task_returned", review["id"])
    mail_sender.send_due(mini.db, settings)
    [mail] = [m for m in inbox.to("li@legal.example.gov.cn") if m["Subject"].startswith("【待认领】")]
    assert mail["Subject"] == f"【待认领】{TITLE}：审核"
    body = mail.get_content()
    assert "以下待办已交回待认领，您可以认领办理。" in body and "交回原因：原办理人已停用（qian）" in body
    # li claims it and hands it back herself: she did it, nobody else with an address to tell
    mini.claim(review["id"], actor="li")
    mini.unclaim(review["id"], actor="li")
    assert len(outbox(mini)) == before + 1
