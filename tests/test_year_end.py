"""The turn of a year the chinesecalendar package does not know (it has 2004–2026): what the reform
office is told, and when, before and after it enters the State Council's schedule.

The 2027 days below are test data, not the State Council's schedule."""
from __future__ import annotations

import threading
from datetime import datetime

from click.testing import CliRunner

from engine import clock, mail_digest
from engine.cli import main
from engine.commands import Engine
from engine.cli.shared import State
from engine.cli.worker import run_worker

from .conftest import FIXTURES
from .test_mail import MINI, outbox
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database
from .web_helper import page_text, signed_in_client

NO_2027 = "no holiday calendar for 2027"
PASSWORD = "year-end-Test-Pw-2026"


class _NextRounds(threading.Event):
    """The worker's pause between rounds, each pause ending at the next of `moments` (China time):
    a worker that keeps running for days, as it does under systemd."""

    def __init__(self, *moments: str) -> None:
        super().__init__()
        self._moments = iter(moments)

    def wait(self, timeout=None) -> bool:
        moment = next(self._moments, None)
        if moment is None:
            return True  # stop
        clock.set_override(datetime.fromisoformat(moment))
        return False


def test_a_worker_started_in_summer_warns_once_a_day_from_when_next_year_comes_within_reach(cli, sqlite_db,  # noqa: F811
                                                                                            capsys):
    clock.set_override(datetime.fromisoformat("2026-10-02T09:00:00"))  # 2027 is 91 days away: not yet
    run_worker(State(sqlite_db.url), False, 0, stop=_NextRounds(
        "2026-10-02T09:00:30", "2026-10-03T09:00:00", "2026-10-03T09:00:30", "2026-10-04T09:00:00"))
    logged = capsys.readouterr().err
    # the worker did not stop at its first round's silence: it says so on the 3rd and on the 4th,
    # once each day, not every round
    assert logged.count(NO_2027) == 2
    assert "reformflow calendar import" in logged


def test_calendar_show_of_this_year_in_december_says_next_year_is_missing(cli):  # noqa: F811
    december = cli("--now", "2026-12-20T10:00:00", "calendar", "show", "2026")
    assert NO_2027 in december.stderr  # the year to enter, though 2026 was asked for
    assert "元旦" not in december.stderr and "2026-10-01" in december.stdout  # 2026 itself is listed as before
    assert NO_2027 not in cli("--now", "2026-09-01T10:00:00", "calendar", "show", "2026").stderr
    asked = cli("--now", "2026-12-20T10:00:00", "calendar", "show", "2027")
    assert asked.stderr.count(NO_2027) == 1  # said once, not once as the year asked and again as the year to come
    cli("--now", "2026-12-20T10:00:00", "calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
    assert NO_2027 not in cli("--now", "2026-12-20T10:00:00", "calendar", "show", "2026").stderr


def test_the_calendar_page_of_this_year_in_december_links_to_next_year(demo_engine, at):
    with at("2026-12-20T10:00"):
        client = signed_in_client(demo_engine, "chen")
        this_year = page_text(client.get("/calendar"))
        assert "2026 年工作日日历" in this_year
        assert "尚无 2027 年节假日安排" in this_year
        assert 'href="/calendar/2027"' in client.get("/calendar").get_data(as_text=True)
        # the page of 2027 itself says it once
        assert page_text(client.get("/calendar/2027")).count("尚无 2027 年节假日安排") == 1
    with at("2026-09-01T10:00"):
        assert "尚无 2027 年" not in page_text(signed_in_client(demo_engine, "chen").get("/calendar"))


def test_a_deadline_counted_without_the_years_schedule_says_so_on_the_command_line(cli):  # noqa: F811
    """The web marks it 暂定; a drafter who works from the command line read only "due 2027-01-11".
    Entering a day of 2027, even 1 January that the law already makes a holiday, makes the year
    count as entered."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    with clock.frozen(datetime.fromisoformat("2026-12-20T10:00:00")):
        plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))
        draft = plan["tasks"][0]["id"]
        cli("complete", str(draft), "--as", "zhang", "--data", '{"summary": "方案摘要"}')
        [review] = as_json(cli("tasks", "--as", "li", "--json"))["tasks"]
        # 15 working days from Sunday 20 December skip New Year's Day by law: Monday 11 January, not
        # Friday 8 January; still a guess until 2027's bridging days and swapped weekends are entered
        assert (review["due_at"], review["due_provisional"]) == ("2027-01-11T16:00:00+00:00", True)
        line = "provisional: counted on the statutory holidays and weekends, no swapped days entered"
        assert line in cli("tasks", "--as", "li").stdout
        assert line in cli("task", str(review["id"])).stdout
        assert line in cli("instance", str(plan["id"])).stdout
        cli("calendar", "set", "2027-01-01", "--off", "--note", "元旦", "--as", "chen")
        assert line not in cli("tasks", "--as", "li").stdout


def test_step_times_across_new_year_say_when_2027_was_counted_without_its_schedule(cli, sqlite_db, at):  # noqa: F811
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    with at("2026-12-30T10:00"):
        draft = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))["tasks"][0]["id"]
    engine = Engine(sqlite_db)
    engine.set_password("chen", PASSWORD, actor="chen", first=True)
    period = ("--since", "2026-12-01", "--until", "2027-01-31")

    def drafting(shown) -> int:
        return next(r for r in as_json(shown)["steps"] if r["element_id"] == "Task_Draft")["median_working_days"]

    with at("2027-01-05T10:00"):
        cli("complete", str(draft), "--as", "zhang", "--data", '{"summary": "方案摘要"}')
        shown = cli("stats", "--as", "chen", *period, "--json")
        assert drafting(shown) == 3  # 31 December, (1 January off by law,) 4 and 5 January
        assert as_json(shown)["calendar_gaps"] == [2027]
        assert "working days in 2027 are counted on the statutory holidays and weekends" in shown.stderr
        assert shown.stderr.count(NO_2027) == 1  # once, not again as the engine's log line
        page = page_text(signed_in_client(engine, "chen", PASSWORD).get("/stats?since=2026-12-01&until=2027-01-31"))
        assert "尚无 2027 年节假日安排：办结用时中落在该年的工作日暂按法定节假日和周末计算（调休未录入）" in page
        cli("calendar", "set", "2027-01-04", "--off", "--note", "元旦调休", "--as", "chen")  # a bridging day
        entered = cli("stats", "--as", "chen", *period, "--json")
        assert drafting(entered) == 2 and as_json(entered)["calendar_gaps"] == []
        assert "statutory holidays and weekends" not in entered.stderr
        page = page_text(signed_in_client(engine, "chen", PASSWORD).get("/stats?since=2026-12-01&until=2027-01-31"))
        assert "尚无 2027 年节假日安排" not in page


def test_a_demo_made_in_january_has_last_years_year_end_round(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    made = CliRunner().invoke(main, ["--db", url, "--now", "2027-01-04T10:00:00", "init", "--demo"], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    # a summing-up of 2026, not of a year four days old
    assert "BG-2026-NB 2026年度全面深化改革情况报告（年度总结）" in made.stdout and "BG-2027-NB" not in made.stdout
    task = next(line for line in CliRunner().invoke(main, ["--db", url, "--now", "2027-01-04T10:00:00", "tasks", "--as", "song"],
                                                    catch_exceptions=False).stdout.splitlines() if "报送改革进展报告" in line)
    assert task.endswith("BG-2026-NB 2026年度全面深化改革情况报告")


def test_fifteen_working_days_ending_on_31_december_are_not_provisional(cli):  # noqa: F811
    """Stored as the next midnight, a deadline of 31 December 2026 looked as if it reached 2027, and the
    inbox said “2026 年节假日安排尚未录入，此期限暂按周末计算” of a count that never left 2026."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))

    def review_opened_on(day: str) -> dict:
        with clock.frozen(datetime.fromisoformat(f"{day}T10:00:00")):
            plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))
            cli("complete", str(plan["tasks"][0]["id"]), "--as", "zhang", "--data", '{"summary": "方案摘要"}')
            return next(t for t in as_json(cli("tasks", "--as", "li", "--json"))["tasks"]
                        if t["instance_id"] == plan["id"])

    on_31st = review_opened_on("2026-12-10")  # 11, 14–18, 21–25, 28–31 December: 15 working days
    assert (on_31st["due_at"], on_31st["due_provisional"]) == ("2026-12-31T16:00:00+00:00", False)
    on_4th = review_opened_on("2026-12-11")  # the 15th working day is 4 January 2027, 1 January off by law
    assert (on_4th["due_at"], on_4th["due_provisional"]) == ("2027-01-04T16:00:00+00:00", True)
    with clock.frozen(datetime.fromisoformat("2026-12-11T10:00:00")):
        lines = cli("tasks", "--as", "li").stdout.splitlines()
    assert [("2026-12-31" in line, "provisional" in line) for line in lines] == [(True, False), (False, True)]


def test_the_mails_say_which_deadline_is_provisional(engine, people, at, monkeypatch):
    """A reviewer reads the deadline in the mail, not only in the inbox: “due 4 January” counted
    without 2027's bridging days and swapped weekends says so there too, in the new-step mail and
    in the digest."""
    monkeypatch.delenv("REFORMFLOW_DIGEST_TIME", raising=False)
    engine.deploy([(MINI.name, MINI.read_bytes())])
    engine.update_user("li", actor="chen", email="li@legal.example.gov.cn", digest=True)
    for sent in ("2026-12-10T10:00", "2026-12-11T10:00"):  # 审核 due 31 December, and 4 January 2027
        with at(sent):
            plan = engine.start("mini_approval", actor="zhang", title=f"方案{sent[8:10]}")
            draft = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft")
            engine.complete(draft["id"], actor="zhang", data={"summary": "概要"})
    new_steps = {m.subject: m.body for m in outbox(engine) if m.kind == "task_new"}
    assert "暂定" not in new_steps["【待办】方案10：审核"]
    assert ("办理期限：2027-01-04（距期限还有 15 个工作日；暂定：该年节假日安排尚未录入，此期限暂按法定节假日和周末计算，"
            "调休未录入，录入后可能变动）") in new_steps["【待办】方案11：审核"]
    assert ("due 2027-01-04 (China time) (provisional: counted on the statutory holidays and weekends, the year's "
            "swapped days not entered yet") in new_steps["【待办】方案11：审核"]
    with at("2026-12-28T08:30"):  # Monday: both due within 5 working days
        mail_digest.queue_due(engine.db)
    [digest] = [m.body for m in outbox(engine) if m.kind == "digest"]
    due = [line.strip() for line in digest.splitlines() if "办理期限" in line]
    assert due == ["办理期限：2026-12-31（距期限还有 3 个工作日）",
                   "办理期限：2027-01-04（距期限还有 4 个工作日；暂定：该年节假日安排尚未录入，此期限暂按法定节假日和周末计算，"
                   "调休未录入，录入后可能变动）"]


def test_working_days_left_counted_over_a_year_nobody_entered_say_so_on_the_page_and_in_the_mail(demo_engine, at):
    """The year-end audit of 6 December 2026: a deadline in calendar days (not provisional itself)
    read 「剩余 4 个工作日」 on 28 December with nothing to say that 2027's bridging days were unknown."""
    engine = demo_engine
    engine.deploy([(MINI.name, MINI.read_bytes())], actor="chen")
    engine.update_user("zhang", actor="chen", email="zhang@czj.example.gov.cn", digest=True)
    with at("2026-12-28T10:00"):
        plan = engine.start("mini_approval", actor="zhang", title="跨年起草")
        [draft] = [t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_Draft"]
        assert (draft["due_at"], draft["due_provisional"]) == ("2027-01-04T02:00:00+00:00", False)  # 7 calendar days
        page = page_text(signed_in_client(engine, "zhang").get(f"/tasks/{draft['id']}"))
    assert "剩余 4 个工作日 暂定 （所跨年份的节假日安排尚未录入，剩余工作日暂按法定节假日和周末计算，录入后以日历为准）" in page
    with at("2026-12-29T08:30"):  # the morning digest lists it: due within 5 working days
        mail_digest.queue_due(engine.db)
    [digest] = [m.body for m in outbox(engine) if m.kind == "digest" and "跨年起草" in m.body]
    [due] = [line.strip() for line in digest.splitlines() if "2027-01-04" in line]
    assert due == "办理期限：2027-01-04 10:00（距期限还有 3 个工作日；工作日数为估算：所跨年份的节假日安排尚未录入）"
    from datetime import date
    engine.set_calendar_day(date(2027, 1, 1), working=False, note="元旦", actor="chen")  # 2027 entered
    with at("2026-12-28T10:00"):
        page = page_text(signed_in_client(engine, "zhang").get(f"/tasks/{draft['id']}"))
    assert "剩余 4 个工作日 （不含今天" in page and "剩余工作日暂按" not in page
