"""The inbox's lists beyond the open tasks, on SQLite and PostgreSQL: 已办 (the steps someone
completed, the latest first, the late ones apart, a page at a time) through the engine, on the
command line and on the web inbox's 已办 page in a real browser; and finding a plan or step in
any list by a part of its name or business key."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from engine import clock
from engine.cli import main
from engine.errors import Forbidden
from engine.queries import DONE, count_listed, list_tasks

from .plan_helper import Plan
from .web_helper import open_task, sign_in, signed_in_client


def _done(engine, who: str, **options) -> list[tuple[str, str]]:
    with engine.db.reader() as s:
        return [(t["element_id"], t["completed_at"][:16]) for t in list_tasks(s, who, DONE, **options)]


def test_someone_s_done_steps_are_listed_latest_first_with_the_late_ones_apart(library, at):
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
    review = plan.task("Task_LegalityReview")
    assert review["due_at"] < "2026-04-30"
    with at("2026-03-03T09:00:00"):  # zhang drafts a second plan a day later
        second = Plan(library, title="第二个方案")
        second.run_until("Task_Research")
    with at("2026-04-30T10:00:00"):  # the review, long after its deadline
        plan.do("Task_LegalityReview")

    zhang = _done(library, "zhang")  # the latest first; steps done at one moment, the later step first
    assert zhang == [("Task_RegisterPlan", "2026-03-03T01:00"), ("Task_DepartmentOpinions", "2026-03-02T01:00"),
                     ("Task_DraftPlan", "2026-03-02T01:00"), ("Task_Research", "2026-03-02T01:00"),
                     ("Task_RegisterPlan", "2026-03-02T01:00")]
    assert _done(library, "li") == [("Task_LegalityReview", "2026-04-30T02:00"), ("Task_CheckMaterials", "2026-03-02T01:00")]
    # late: completed after the deadline (the review); zhang's drafting had none to miss
    now = datetime(2026, 5, 1, tzinfo=timezone.utc)  # --overdue / 只看逾期办结的: late by the time it was done
    assert _done(library, "li", overdue_at=now) == [("Task_LegalityReview", "2026-04-30T02:00")]
    assert _done(library, "zhang", overdue_at=now) == []
    # a page at a time, and how many in all
    with library.db.reader() as s:
        total = count_listed(s, "zhang", DONE)
        pages = [list_tasks(s, "zhang", DONE, limit=1, offset=n) for n in range(total)]
    assert total == len(zhang) and [p[0]["element_id"] for p in pages] == [e for e, _ in zhang]
    # only completed steps: the second plan's research, which zhang holds, is not done
    assert second.task("Task_Research")["assignee"] == "zhang"
    with library.db.reader() as s, pytest.raises(Forbidden, match="不存在"):
        list_tasks(s, "nobody", DONE)


def test_done_steps_on_the_command_line(library, at):
    with at("2026-03-02T09:00:00"):
        Plan(library).run_until("Task_Research")
    runner = CliRunner()
    answer = runner.invoke(main, ["--db", library.db.url, "tasks", "--as", "zhang", "--scope", "done", "--json"])
    assert answer.exit_code == 0, answer.output
    [registered] = json.loads(answer.output)["tasks"]
    assert (registered["element_id"], registered["status"], registered["completed_by"]) == (
        "Task_RegisterPlan", "completed", "zhang")
    lines = runner.invoke(main, ["--db", library.db.url, "tasks", "--as", "zhang", "--scope", "done"]).output
    assert "确认方案任务信息" in lines and "办结 (completed) 2026-03-02 09:00" in lines
    nothing = runner.invoke(main, ["--db", library.db.url, "tasks", "--as", "li", "--scope", "done"]).output
    assert "（没有已办）(nothing completed)" in nothing
    found = runner.invoke(main, ["--db", library.db.url, "tasks", "--as", "zhang", "--find", "调查", "--json"])
    assert [t["element_id"] for t in json.loads(found.output)["tasks"]] == ["Task_Research"]


def _done_rows(html: str) -> list[str]:
    import re
    return re.findall(r"<tr class=\"[^\"]*\" data-task=\"(\d+)\">", html)


def test_the_done_page_lists_what_the_reviewer_completed_and_opens_it(live, page):
    engine = live.app.extensions["reformflow"]
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    engine.complete(review["id"], actor="li", data={"legalityResult": "pass", "legalityOpinion": "符合法律法规"})
    sign_in(page, live, "li")
    page.get_by_role("link", name="已办").click()
    expect(page.locator("h1")).to_contain_text("已办")
    row = page.locator("table.inbox tbody tr").first  # the latest first
    expect(row).to_contain_text("DT-2015-04")
    expect(row).to_contain_text("合法合规性审查")
    row.get_by_role("link", name="合法合规性审查").click()
    expect(page.locator("h1")).to_contain_text("已办结")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="中文")).to_be_visible()  # the language changed: click does not wait for that
    page.goto(f"{live.url}/tasks?scope=done")
    expect(page.locator("h1")).to_contain_text("Done")
    expect(page.locator("table.inbox thead")).to_contain_text("Completed")


def test_the_done_page_goes_a_page_at_a_time_and_keeps_the_late_ones_apart(demo_engine, monkeypatch, at):
    from web import inbox
    monkeypatch.setattr(inbox, "PAGE", 1)
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")  # li's, done a day after its deadline
    with at((datetime.fromisoformat(review["due_at"]) + timedelta(days=1)).isoformat()):
        demo_engine.claim(review["id"], actor="li")
        demo_engine.complete(review["id"], actor="li", data={"legalityResult": "pass", "legalityOpinion": "同意"})
    li = signed_in_client(demo_engine, "li")
    with demo_engine.db.reader() as s:
        everything = [str(t["id"]) for t in list_tasks(s, "li", DONE)]
    assert len(everything) >= 2 and everything[0] == str(review["id"])
    first, second = (li.get(f"/tasks?scope=done&page={n}").get_data(as_text=True) for n in (1, 2))
    assert _done_rows(first) == everything[:1] and _done_rows(second) == everything[1:2]
    assert f"{len(everything)} 项" in first and "下一页" in first and "上一页" in second
    assert "逾期办结</strong>" in first and "逾期办结</strong>" not in second  # the late one, marked
    late = li.get("/tasks?scope=done&overdue=1").get_data(as_text=True)
    assert _done_rows(late) == [str(review["id"])] and "1 项" in late
    assert "逾期办结的：没有。" in signed_in_client(demo_engine, "zhang").get("/tasks?scope=done&overdue=1").get_data(as_text=True)


def test_the_open_inbox_goes_a_page_at_a_time_in_either_order(demo_engine, monkeypatch):
    from web import inbox
    monkeypatch.setattr(inbox, "PAGE", 2)
    chen = signed_in_client(demo_engine, "chen")  # the reform office: every open task of the demo
    with demo_engine.db.reader() as s:
        by_deadline = [str(t["id"]) for t in list_tasks(s, "chen", "all")]
        newest = [str(t["id"]) for t in list_tasks(s, "chen", "all", newest_first=True)]
        overdue = count_listed(s, "chen", "all", overdue_at=clock.now())
    assert len(by_deadline) >= 5 and sorted(newest) == sorted(by_deadline) and newest != by_deadline
    pages = [chen.get(f"/tasks?scope=all&page={n}").get_data(as_text=True) for n in range(1, (len(by_deadline) + 1) // 2 + 1)]
    assert [row for page in pages for row in _done_rows(page)] == by_deadline  # each page goes on from the last
    assert f"{len(by_deadline)} 项" in pages[0] and "下一页" in pages[0] and "上一页" not in pages[0]
    assert "上一页" in pages[-1] and "下一页" not in pages[-1]
    if overdue:
        assert f"只看已逾期</a>（{overdue}）" in pages[-1]  # counted over every page, not this one's rows
    past = chen.get(f"/tasks?scope=all&page={len(pages) + 1}").get_data(as_text=True)  # the list shrank since
    assert _done_rows(past) == [] and f"已没有内容（共 {len(by_deadline)} 项）" in past and "回到第 1 页" in past
    second_new = chen.get("/tasks?scope=all&sort=new&page=2").get_data(as_text=True)
    assert _done_rows(second_new) == newest[2:4]
    assert "sort=new" in second_new.split('class="pages"')[1]  # the next page keeps the order


def test_a_list_is_searched_by_plan_title_business_key_or_step(library, at):
    with at("2026-03-02T09:00:00"):
        budget = Plan(library, title="深化财政预算管理制度改革方案")
        budget.run_until("Task_LegalityReview")
        water = Plan(library, title="水价改革方案（100%_试点）")
        water.run_until("Task_LegalityReview")

    def found(who, scope, text):
        with library.db.reader() as s:
            return sorted((t["instance_id"], t["element_id"]) for t in list_tasks(s, who, scope, text=text))
    assert found("li", "claimable", "财政") == [(budget.id, "Task_LegalityReview")]
    assert found("li", "claimable", "合法合规") == sorted([(budget.id, "Task_LegalityReview"),
                                                          (water.id, "Task_LegalityReview")])
    # % and _ are letters to look for, not wildcards
    assert found("li", "claimable", "100%_") == [(water.id, "Task_LegalityReview")]
    assert found("li", "claimable", "1%试") == []  # as a wildcard it would match "100%_试"
    assert found("zhang", DONE, "水价") == sorted((water.id, e) for e in (
        "Task_DepartmentOpinions", "Task_DraftPlan", "Task_RegisterPlan", "Task_Research"))
    with library.db.reader() as s:
        assert count_listed(s, "zhang", DONE, text="水价") == 4


def test_the_office_finds_a_plan_s_tasks_in_its_inbox(live, page):
    sign_in(page, live, "chen")
    page.get_by_label("查找方案或环节").fill("DT-2015-04")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url(re.compile(r"q=DT-2015-04"))  # and its load: all_inner_texts does not wait for the rows
    rows = page.locator("table.inbox tbody tr")
    expect(rows.first).to_contain_text("DT-2015-04")
    for text in rows.all_inner_texts():
        assert "DT-2015-04" in text
    page.get_by_role("link", name="最新生成在前").click()  # the search stays with the other options
    page.wait_for_url(re.compile(r"sort=new"))
    expect(page.get_by_label("查找方案或环节")).to_have_value("DT-2015-04")
    assert all("DT-2015-04" in text for text in rows.all_inner_texts())
    page.get_by_label("查找方案或环节").fill("没有这个方案")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("p.empty")).to_have_text("没有找到含「没有这个方案」的方案或环节。")


def test_the_inbox_lists_the_overdue_steps_first_then_by_priority_and_deadline(demo_engine):
    """按期限, the inbox's default order: what is past its deadline on top, however low its
    priority; then the diagram's priority (the office's escalation steps), then the deadline.
    By priority alone the demo's monthly report, overdue for weeks, came below a rectification
    due next month."""
    now = clock.now().isoformat()
    with demo_engine.db.reader() as s:
        rows = list_tasks(s, "chen", "all")
    overdue = [r["due_at"] is not None and r["due_at"] < now for r in rows]
    assert any(overdue) and not all(overdue)
    # the case the old order got wrong is in the demo: an overdue step of lower priority than one not overdue
    assert min(r["priority"] for r, late in zip(rows, overdue) if late) < \
        max(r["priority"] for r, late in zip(rows, overdue) if not late)
    assert overdue == sorted(overdue, reverse=True)  # every overdue step above every other
    for group in (True, False):
        listed = [(-r["priority"], r["due_at"] is None, r["due_at"] or "") for r, late in zip(rows, overdue)
                  if late is group]
        assert listed == sorted(listed)
    # the page shows the same order: its first rows are the overdue ones
    html = signed_in_client(demo_engine, "chen").get("/", follow_redirects=True).get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    first = body.split("</tr>")[:sum(overdue)]
    assert all("已逾期" in row for row in first)
