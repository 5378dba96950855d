"""What an operator following docs/operations.md sees on the command line: `init --demo` after
`deploy`, the worker's log when a round is cut short, `mail status` with a sender missing."""
from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli import main

from .conftest import BPMN
from .test_mail import mini  # noqa: F401 - mini_approval deployed, li and zhang with addresses


def _run(url: str, *args, code: int = 0, env: dict | None = None):
    result = CliRunner().invoke(main, ["--db", url, *args], env=env)
    assert result.exit_code == code, result.output + result.stderr
    return result


def test_init_demo_on_a_database_that_holds_data_says_why_nothing_was_loaded(tmp_path):
    """After `deploy` (operations.md §1) `init --demo` said 「演示数据已加载过」 though no demo had ever
    been loaded: it looked for the user chen, whom §1 adds too."""
    url = f"sqlite:///{tmp_path / 'reformflow.sqlite3'}"
    _run(url, "init")
    _run(url, "groups", "add", "reform_office", "--display-name", "改革办")
    _run(url, "users", "add", "chen", "--display-name", "陈静", "--group", "reform_office")
    _run(url, "deploy", str(BPMN / "filing.bpmn"), "--as", "chen")
    said = _run(url, "init", "--demo")
    assert "演示数据已加载过" not in said.stdout
    assert ("未加载演示数据：数据库中已有数据（用户 1 个、角色 1 个、流程定义 1 个、方案 0 个），演示数据只加载到空数据库"
            in said.stdout) and "demo data only goes into an empty database" in said.stdout
    demo = json.loads(_run(url, "init", "--demo", "--json").stdout)["demo"]
    assert demo == {"loaded": False, "reason": "database_not_empty", "users": 1, "groups": 1, "definitions": 1,
                    "plans": 0}
    assert [u["username"] for u in json.loads(_run(url, "users", "list", "--json").stdout)["users"]] == ["chen"]


def test_init_demo_loads_into_an_empty_database_and_says_already_loaded_the_second_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'reformflow.sqlite3'}"
    first = _run(url, "--now", "2026-12-03T09:00:00", "init", "--demo")
    assert "DT-2015-01" in first.stdout
    again = _run(url, "--now", "2026-12-03T09:00:00", "init", "--demo")
    assert "演示数据已加载过" in again.stdout and "未加载演示数据" not in again.stdout


def test_a_worker_round_cut_short_says_how_many_plans_fired_before_the_error(sqlite_db, monkeypatch):
    """With 200 plans due and the connection terminated mid-round, the worker logged 「本轮未能运行」
    though 82 plans had fired and committed: it says how many now."""
    from datetime import datetime

    from sqlalchemy.exc import OperationalError

    from engine import clock
    from engine.commands import Engine

    from .conftest import FIXTURES
    engine = Engine(sqlite_db)
    engine.add_group("drafter", "牵头单位")
    engine.add_group("reform_office", "改革办")
    engine.add_user("zhang", "张伟", groups=["drafter"])
    engine.deploy([("deadline_months.bpmn", (FIXTURES / "diagrams" / "deadline_months.bpmn").read_bytes())])
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        for _ in range(5):
            engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})
    real, calls = Engine._fire_plan, []

    def dropped_after_three(self, instance_id):
        calls.append(instance_id)
        if len(calls) == 4:
            raise OperationalError("SELECT …", {}, Exception("terminating connection due to administrator command"))
        return real(self, instance_id)
    monkeypatch.setattr(Engine, "_fire_plan", dropped_after_three)
    result = _run(sqlite_db.url, "--now", "2026-03-05T09:00:00", "worker", "--rounds", "2", "--interval", "0")
    warned, *lines = result.stderr.splitlines()  # first the --now far from the machine's clock
    assert warned.startswith("reformflow: 警告：引擎时间已用 --now 固定为 2026-03-05 09:00")
    assert lines[0].startswith("worker: 已启动")
    assert lines[1] == ("worker: 本轮已触发 3 个方案的定时器并已提交，其后出错中断，0 秒后重试 (fired timers in 3 plan(s), "
                        "committed, before the round was cut short: OperationalError: (builtins.Exception) terminating "
                        "connection due to administrator command; retrying in 0 s)")
    # the next round, the rest, by their ids (these plans have no business key) and titles
    assert "已触发 2 个方案的定时器 (fired timers in 2 plans)：\n    4 按月期限：到期（应于 2026-02-28 10:00 触发，迟 4 天）" \
        in result.stdout
    assert "\n    5 按月期限：到期（" in result.stdout
    monkeypatch.setattr(Engine, "_fire_plan", real)
    calls.clear()
    assert json.loads(_run(sqlite_db.url, "--now", "2026-03-05T09:00:00", "timers", "run", "--json").stdout)["fired"] == []


def test_a_worker_round_names_each_plan_and_timer_with_its_due_time_and_how_late_it_fired(sqlite_db, monkeypatch):
    """An operator's finding: the round's line 「已触发 1 个方案的定时器」 did not say which plan (only
    --json did). The audit of 6 December 2026: after the worker had stopped for weeks, `timers run`
    said 「已触发 91 个方案的定时器」 and --json only the timers' ids; nothing said they fired late. Each
    plan now by id, business key and title, each timer by name, due time and lateness; the first
    SHOWN_PLANS, the rest counted (等共); and a line when timers fired more than 15 minutes late."""
    from datetime import datetime

    from engine import clock
    from engine.cli import fired as fired_said
    from engine.commands import Engine

    from .conftest import FIXTURES
    engine = Engine(sqlite_db)
    engine.add_group("drafter", "牵头单位")
    engine.add_user("zhang", "张伟", groups=["drafter"])
    engine.deploy([("deadline_months.bpmn", (FIXTURES / "diagrams" / "deadline_months.bpmn").read_bytes())])
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        keyed = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"}, business_key="DT-2026-07")
        plain = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})
    result = _run(sqlite_db.url, "--now", "2026-03-05T09:00:00", "worker", "--rounds", "1", "--interval", "0")
    assert result.stdout == (
        "2026-03-05T01:00:00+00:00 已触发 2 个方案的定时器 (fired timers in 2 plans)：\n"
        f"    {keyed['id']} DT-2026-07 按月期限：到期（应于 2026-02-28 10:00 触发，迟 4 天） "
        f"(plan {keyed['id']} DT-2026-07: 到期 due 2026-02-28 10:00, 4 days late)\n"
        f"    {plain['id']} 按月期限：到期（应于 2026-02-28 10:00 触发，迟 4 天） "
        f"(plan {plain['id']}: 到期 due 2026-02-28 10:00, 4 days late)\n"
        "注意：2 个定时器比应触发的时间晚 15 分钟以上才触发，最早的应于 2026-02-28 10:00 触发，定时器工作进程此前可能已停止 "
        "(note: 2 timers fired more than 15 minutes late, the earliest due 2026-02-28 10:00: the timer worker was "
        "behind, probably stopped)\n")
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        for _ in range(3):
            engine.start("deadline_months", actor="zhang", data={"wait": "P1M"})
    monkeypatch.setattr(fired_said, "SHOWN_PLANS", 2)
    # due 2026-02-28 10:00 Beijing: fired 5 minutes late, within the grace, says nothing of the worker
    fired = _run(sqlite_db.url, "--now", "2026-02-28T10:05:00", "timers", "run")
    assert fired.stdout.splitlines()[0] == "已触发 3 个方案的定时器 (fired timers in 3 plans)："
    assert fired.stdout.splitlines()[1].endswith("到期（应于 2026-02-28 10:00 触发，迟 5 分钟） "
                                                 f"(plan {plain['id'] + 1}: 到期 due 2026-02-28 10:00, 5 minutes late)")
    assert fired.stdout.splitlines()[3:] == ["    …… 等共 3 个方案 (… 3 plans in all)"]  # the third counted
    with clock.frozen(datetime.fromisoformat("2026-01-31T10:00:00")):
        last = engine.start("deadline_months", actor="zhang", data={"wait": "P1M"}, business_key="DT-2026-09")
    as_json = json.loads(_run(sqlite_db.url, "--now", "2026-03-05T09:00:00", "timers", "run", "--json").stdout)
    assert as_json == {"fired": [{"instance_id": last["id"], "business_key": "DT-2026-09", "title": "按月期限",
                                  "timers": ["Event_Deadline"], "fired": [
                                      {"timer": "Event_Deadline", "name": "到期", "due_at": "2026-02-28T02:00:00+00:00",
                                       "due_on": "2026-02-28", "late_seconds": 4 * 86400 + 23 * 3600, "late": True}]}],
                       "failed": []}


def test_a_now_far_from_the_machines_clock_is_said_before_anything_fires(sqlite_db):
    """The audit: a worker started with --now a year ahead fired a year of timers early, silently."""
    from datetime import timedelta

    from engine import clock
    ahead = (clock.real_now() + timedelta(days=400)).astimezone(clock.TZ).strftime("%Y-%m-%dT%H:%M:%S")
    for args in (("timers", "run"), ("worker", "--rounds", "1", "--interval", "0")):
        said = _run(sqlite_db.url, "--now", ahead, *args).stderr.splitlines()[0]
        assert said.startswith(f"reformflow: 警告：引擎时间已用 --now 固定为 {ahead[:10]} {ahead[11:16]}，晚于本机时钟 400 天；"
                               "到该时间为止到期的定时器将真实触发，触发后不能撤销 (warning: --now fixes the engine clock at ")
        assert said.endswith("400 days ahead of the machine's clock; the timers due by then fire for real and cannot be "
                             "undone)")
    near = (clock.real_now() + timedelta(hours=3)).astimezone(clock.TZ).strftime("%Y-%m-%dT%H:%M:%S")
    assert "警告" not in _run(sqlite_db.url, "--now", near, "timers", "run").stderr  # within a day: a test of a timer


def test_a_worker_round_that_fired_nothing_before_the_error_says_so_as_before():
    down = "postgresql://postgres@127.0.0.1:5509/nothing"  # nothing listens there
    result = _run(down, "worker", "--rounds", "2", "--interval", "0", "--json")
    assert all(line.startswith("worker: 本轮未能运行，0 秒后重试 (OperationalError: ")
               for line in result.stderr.splitlines()[1:])  # after the start line
    assert [json.loads(line)["fired_before_error"] for line in result.stdout.splitlines()] == [0, 0]


def test_mail_status_reports_the_queue_and_a_missing_sender_exit_0(mini, monkeypatch):  # noqa: F811
    """SMTP_HOST set, neither SMTP_USER nor SMTP_FROM: `mail status` exited 3 with 「请设置发件地址」 and no
    queue, breaking a monitoring check on `mail status --json`. The queue and the problem now."""
    from .test_mail import start
    start(mini)
    monkeypatch.setenv("REFORMFLOW_SMTP_HOST", "mail.example.gov.cn")
    for name in ("REFORMFLOW_SMTP_USER", "REFORMFLOW_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    shown = _run(str(mini.db.url), "mail", "status")
    assert shown.stdout.splitlines()[0] == (
        "SMTP 设置有误，邮件不会发出，留在队列中：请设置发件地址 REFORMFLOW_SMTP_FROM (set the sender's address, "
        "REFORMFLOW_SMTP_FROM) (the SMTP settings are wrong: mails are not sent, they stay queued)")
    assert "排队 1 封" in shown.stdout
    status = json.loads(_run(str(mini.db.url), "mail", "status", "--json").stdout)
    assert (status["configured"], status["queued"], status["config_error"]) == (
        False, 1, "请设置发件地址 REFORMFLOW_SMTP_FROM (set the sender's address, REFORMFLOW_SMTP_FROM)")
    monkeypatch.setenv("REFORMFLOW_SMTP_USER", "notify@example.gov.cn")  # the sender defaults to the user name
    status = json.loads(_run(str(mini.db.url), "mail", "status", "--json").stdout)
    assert (status["configured"], status["config_error"]) == (True, None)


def test_the_worker_says_once_at_start_which_database_how_often_and_whether_mail_goes_out(tmp_path, monkeypatch):
    """The journal showed nothing of a worker that had nothing to do: not even that it ran."""
    monkeypatch.delenv("REFORMFLOW_SMTP_HOST", raising=False)
    url = f"sqlite:///{tmp_path / 'reformflow.sqlite3'}"
    _run(url, "init")
    said = _run(url, "worker", "--rounds", "2", "--interval", "0")
    started = [line for line in said.stderr.splitlines() if line.startswith("worker:")]
    assert started == [f"worker: 已启动，每 0 秒一轮，触发到期的定时器、提醒和逾期上报，未配置 SMTP，邮件留在队列中；无事可做的一轮不记录；"
                       f"数据库 {url} (started: every 0 s fires due timers, reminders and escalations, no SMTP "
                       f"configured: mail stays queued; a round with nothing to do logs nothing; database {url})"]
    assert said.stdout == ""  # two empty rounds: nothing more


def test_the_worker_s_start_line_names_the_database_without_its_password():
    said = _run("postgresql://reformflow_app:s3cret-pw@127.0.0.1:5652/reformflow", "worker", "--rounds", "1",
                "--interval", "0", env={"REFORMFLOW_SMTP_HOST": "mail.example.gov.cn",
                                        "REFORMFLOW_SMTP_FROM": "reformflow@example.gov.cn"})
    assert "s3cret-pw" not in said.output + said.stderr
    assert ("经 mail.example.gov.cn:25 发送排队的邮件；无事可做的一轮不记录；数据库 "
            "postgresql+psycopg://reformflow_app@127.0.0.1:5652/reformflow") in said.stderr


def test_the_sqlite_file_init_creates_is_readable_by_its_owner_alone(tmp_path):
    """It holds the password hashes and the audit trail; it was created 0644."""
    import stat
    database = tmp_path / "instance" / "reformflow.sqlite3"
    database.parent.mkdir()
    _run(f"sqlite:///{database}", "init")
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    import sqlite3
    with sqlite3.connect(database) as open_one:  # its -wal and -shm, while a process has it open, follow
        open_one.execute("PRAGMA journal_mode=WAL")
        open_one.execute("CREATE TABLE probe (x)")
        for suffix in ("-wal", "-shm"):
            assert stat.S_IMODE(database.with_name(database.name + suffix).stat().st_mode) == 0o600, suffix


def test_init_takes_others_rights_off_a_sqlite_file_an_older_release_made_saying_so_once(tmp_path):
    """Files an older release created stayed 0644 (anyone on the machine could read the password
    hashes) through every upgrade: init now makes them, the -wal and -shm too, the owner's alone."""
    import sqlite3
    import stat
    database = tmp_path / "reformflow.sqlite3"
    url = f"sqlite:///{database}"
    _run(url, "init")
    files = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    web = sqlite3.connect(database)  # a process that has it open: its -wal and -shm exist
    web.execute("PRAGMA journal_mode=WAL")
    web.execute("CREATE TABLE probe (x)")
    for f in files:
        f.chmod(0o644)  # as an older release left them
    try:
        assert [stat.S_IMODE(f.stat().st_mode) for f in files] == [0o644] * 3
        said = _run(url, "init")
        assert [stat.S_IMODE(f.stat().st_mode) for f in files] == [0o600] * 3
        [line] = [line for line in said.stderr.splitlines() if "仅属主可读写" in line]
        assert all(f"{f}（0644 → 0600）" in line for f in files) and "now their owner's alone" in line
        assert "仅属主" not in said.stdout
        assert "仅属主" not in _run(url, "init").stderr  # private now: nothing more to say
        database.chmod(0o640)  # a group-readable one too; never looser than it was
        _run(url, "init")
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    finally:
        web.close()


def test_the_guide_adds_every_group_the_library_uses_with_the_demo_s_names_and_the_auditor_in_its_group():
    """operations.md §1 named 2 of the groups and added the auditor in none, so the web's audit page
    refused them."""
    import re
    from pathlib import Path

    from engine.demo import GROUPS
    from engine.visibility import AUDITOR_GROUP
    guide = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text(encoding="utf-8")
    added = dict(re.findall(r"^reformflow groups add (\w+) --display-name (\S+)$", guide, re.M))
    assert added == GROUPS
    assert re.search(rf"^reformflow users add auditor .*--group {AUDITOR_GROUP}\b", guide, re.M)
    assert "reformflow users password auditor --as auditor" in guide
