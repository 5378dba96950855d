"""`make run`'s demo (`reformflow init --demo`) on any day of the year: it counts every date from
today, so it is loaded here on days that test the calendar (a month's end, the National Day
holiday, a February), and what the README tells a newcomer to look at is there each time."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from engine.bulletin import last_ended
from engine.cli import main

DAYS = ["2026-12-03T09:00:00", "2026-01-31T23:30:00", "2026-10-01T09:00:00", "2027-02-10T09:00:00"]


def _load(url: str, now: str):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, ["--db", url, "--now", now, *args])
        assert result.exit_code == 0, result.output + result.stderr
        return result
    return run("init", "--demo"), run


def _check_what_the_readme_shows(run, now: str) -> None:
    ledger = {p["business_key"]: p for p in json.loads(run("ledger", "--json").stdout)["plans"]}
    assert len(ledger) == 12
    # the plan issued 40 days ago and not filed: red, its filing overdue and escalated
    late = ledger["DT-2015-07"]
    assert late["colour"] == "red" and {t["name"] for t in late["current"]} == {"报送备案", "逾期未备案处理", "移交决策档案"}
    # numbered with the year it was issued in (a demo made on 10 February 2027 issued it on 1 January)
    issued = json.loads(run("instance", str(late["id"]), "--json").stdout)["variables"]
    assert issued["documentNumber"] == f"同改发〔{issued['issueDate'][:4]}〕7号"
    assert issued["issueDate"] == (datetime.fromisoformat(now) - timedelta(days=40)).date().isoformat()
    # the plan filed today, 40 days after it was issued: filed late
    assert ledger["DT-2015-08"]["status"] == "completed" and ledger["DT-2015-08"]["colour"] == "yellow"
    # its implementation has a monthly table with the lead unit and a supervision with the reform office
    current = {t["name"] for t in ledger["DT-2015-08-LS"]["current"]}
    assert {"报送月度进展", "开展督察"} <= current
    # a proposal to adjust the filed plan waits for the reform office's review, on the ledger by its own milestone
    adjustment = ledger["DT-2015-08-TZ1"]
    assert [t["name"] for t in adjustment["current"]] == ["审核调整意见"] and adjustment["milestone"] == "调整后方案印发"
    # this year's year-end reporting round: one body has not reported, one report waits for review
    [round_key] = [k for k in ledger if k.startswith("BG-")]
    assert round_key.endswith("-NB") and ledger[round_key]["milestone"] == "汇总报告审定"
    assert sorted(t["name"] for t in ledger[round_key]["current"]) == ["报送改革进展报告", "编审单位报告"]
    song = json.loads(run("tasks", "--as", "song", "--json").stdout)["tasks"]
    assert (round_key, "报送改革进展报告") in [(t["business_key"], t["name"]) for t in song]
    assert [f["attached_by"] for f in json.loads(run("documents", round_key, "--json").stdout)] == ["sun", "zhang"]
    # the quarterly bulletin: the key breakthrough project DT-2015-09-LS, on the ledger in green, its
    # tables filed on time; the latest quarter whose tables are in was returned once and approved
    assert ledger["DT-2015-09-LS"]["colour"] == "green"
    [latest] = json.loads(run("bulletin", "--json").stdout)["plans"]
    assert latest["business_key"] == "DT-2015-09-LS" and not latest["attention"]
    reviewed = last_ended(datetime.fromisoformat(now).date() - timedelta(days=14))
    [row] = json.loads(run("bulletin", "--quarter", reviewed.code, "--json").stdout)["plans"]
    assert (row["lead_unit"], row["standing"], row["review"]["state"], row["review"]["returns"]) == (
        "市国资委", "on_time", "approved", 1)
    assert row["table"]["measures"] == 4 and row["table"]["revised"]
    # the supervision ledger: DT-2015-09-LS supervised, its rectification notice being rectified
    # by 宋涛; DT-2015-08-LS's supervision not due yet
    watched = {p["business_key"]: p for p in json.loads(run("supervision", "--json").stdout)["plans"]}
    assert set(watched) == {"DT-2015-08-LS", "DT-2015-09-LS"} and not any(p["attention"] for p in watched.values())
    assert watched["DT-2015-08-LS"]["supervision"]["state"] == "due" and watched["DT-2015-08-LS"]["notice"] is None
    notice = watched["DT-2015-09-LS"]["notice"]
    assert (notice["number"], notice["state"]) == (f"同改督〔{now[:4]}〕2号", "rectifying")  # served today
    assert ("DT-2015-09-LS", "整改并报告整改情况") in [(t["business_key"], t["name"]) for t in song]
    # every drafting step is kept to its plan's lead unit, and its drafter works there
    units = {u["username"]: u["unit"] for u in json.loads(run("users", "list", "--json").stdout)["users"]}
    kept = [t for t in json.loads(run("tasks", "--as", "chen", "--json").stdout)["tasks"] if t["candidate_unit"]]
    assert len(kept) >= 5
    assert [(t["candidate_unit"], units[t["assignee"]]) for t in kept] == \
        [(ledger[t["business_key"]]["lead_unit"],) * 2 for t in kept]
    # the README's walkthrough: 李娜's legality review of DT-2015-04, 谢娟's monthly table
    li = json.loads(run("tasks", "--as", "li", "--json").stdout)["tasks"]
    assert [(t["business_key"], t["name"]) for t in li] == [("DT-2015-04", "合法合规性审查")]
    xie = json.loads(run("tasks", "--as", "xie", "--json").stdout)["tasks"]
    assert [(t["business_key"], t["name"]) for t in xie] == [("DT-2015-08-LS", "报送月度进展")]
    verified = run("audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["files"] == 3  # the draft put out for comment, two progress reports
    # DT-2015-02's draft put out for comment, attached to the consultation task
    files = json.loads(run("documents", "DT-2015-02", "--json").stdout)
    assert [(f["file_name"], f["task_name"]) for f in files] == [
        ("深化财政预算管理制度改革方案（征求意见稿）.txt", "发布公开征求意见")]
    # `reformflow archive 8`: the filed plan's decision archive, every record proved
    assert ledger["DT-2015-08"]["id"] == 8
    archive = json.loads(run("archive", "8", "--json").stdout)
    assert archive["verified"]["ok"] and archive["business_key"] == "DT-2015-08"
    records = {s["code"]: [r["name"] for r in s["records"]] for s in archive["sections"]}
    assert records["legality_review"] == ["核对送审材料是否齐全", "合法合规性审查"]
    assert "会签审定" in records["collective_decision"]


@pytest.mark.parametrize("now", DAYS)
def test_the_demo_loads_on_any_day(sqlite_db, now):
    loaded, run = _load(sqlite_db.url, now)
    assert "DT-2015-08-LS" in loaded.stdout  # the loader says what it started
    _check_what_the_readme_shows(run, now)


def test_a_demo_made_in_january_reports_on_the_year_just_ended(sqlite_db):
    """On 4 January 2027 the year-end round sums up 2026: 2027 has only begun."""
    _, run = _load(sqlite_db.url, "2027-01-04T09:00:00")
    rounds = [p for p in json.loads(run("ledger", "--json").stdout)["plans"] if p["business_key"].startswith("BG-")]
    assert [(p["business_key"], p["title"]) for p in rounds] == [("BG-2026-NB", "2026年度全面深化改革情况报告")]
    song = json.loads(run("tasks", "--as", "song", "--json").stdout)["tasks"]
    [report] = [t for t in song if t["business_key"] == "BG-2026-NB"]
    values = json.loads(run("task", str(report["id"]), "--json").stdout)["values"]
    assert (values["reportPeriod"], values["reportYear"]) == ("year_end", 2026)


def test_the_demo_loads_on_postgresql(postgres_db):
    _, run = _load(postgres_db.url, DAYS[0])
    _check_what_the_readme_shows(run, DAYS[0])


def test_loading_the_demo_again_keeps_the_data_and_says_how_to_start_over(sqlite_db):
    _, run = _load(sqlite_db.url, DAYS[0])
    again = run("init", "--demo")  # `make run` a second time
    assert "演示数据已加载过" in again.stdout and "rm instance/reformflow.sqlite3" in again.stdout
    assert len(json.loads(run("ledger", "--json").stdout)["plans"]) == 12


def test_the_ids_the_docs_name(sqlite_db):
    """README.md, docs/users.md and docs/cli.md name demo tasks and plans by id: keep them true."""
    _, run = _load(sqlite_db.url, DAYS[0])
    inbox = json.loads(run("tasks", "--as", "chen", "--json").stdout)["tasks"]
    tasks = {t["id"]: (t["business_key"], t["name"]) for t in inbox}
    assert tasks[20] == ("DT-2015-04", "合法合规性审查")  # README: task 20, claim 20, complete 20
    assert tasks[54] == ("DT-2015-07", "报送备案")  # cli.md: the sample of `task 54`
    assert tasks[55] == ("DT-2015-07", "逾期未备案处理")  # users.md §6: assign 55
    assert tasks[5] == ("DT-2015-02", "发布公开征求意见")  # cli.md: attach 5 … --as zhang
    plans = {p["id"]: p["business_key"] for p in json.loads(run("ledger", "--json").stdout)["plans"]}
    # README: instance 4, archive 8; users.md §7: 方案 #9
    assert (plans[4], plans[8], plans[9]) == ("DT-2015-04", "DT-2015-08", "DT-2015-08-LS")


def test_the_demo_made_on_31_december_says_once_that_next_year_is_missing(tmp_path):
    """`make run` on 31 December printed the 2027 warning seven times: once from `init` itself,
    then the log's line once for each plan driven into January. As its own process, as `make run`
    runs it, so that the log's lines reach standard error as they would."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "engine.cli", "--db", f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                           "--now", "2026-12-31T09:00:00", "init", "--demo"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("尚无 2027 年节假日安排") == 1
    assert done.stderr.startswith("警告 (warning): 尚无 2027 年节假日安排")
