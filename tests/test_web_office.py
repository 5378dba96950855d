"""The reform office's pages in a real browser, over the demo: every plan and the ledger (with its
downloads) for the office, the plans that concern them for anyone else; assigning a task, with a
confirmation before taking it from someone and a conflict when another office member got there
first; stopping a plan with a reason and a confirmation; starting a plan on its start form. And
what a drafter may not do: no link, a 403 page, a POST the engine refuses. The plans list's SQL
filter runs on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from engine import clock
from engine.queries import list_tasks
from models import AuditEvent, ProcessInstance
from web.auth import Person
from web.access import visible_plans

from .conftest import add_people
from .plan_helper import deploy_library
from .web_helper import sign_in, signed_in_client


def _engine(live):
    return live.app.extensions["reformflow"]


def _task(engine, business_key: str, element_id: str) -> dict:
    with engine.db.reader() as s:
        return next(t for t in list_tasks(s, "chen", "all")
                    if t["business_key"] == business_key and t["element_id"] == element_id)


def _plan_id(engine, business_key: str) -> int:
    with engine.db.reader() as s:
        return s.execute(select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)).scalar_one()


def _events(engine, instance_id: int, kind: str) -> list[dict]:
    with engine.db.reader() as s:
        return [json.loads(p) | {"actor": a} for a, p in s.execute(
            select(AuditEvent.actor, AuditEvent.payload).where(
                AuditEvent.instance_id == instance_id, AuditEvent.event_type == kind).order_by(AuditEvent.seq))]


def _csrf(page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")


# ------------------------------------------------------------------ the plans list
def test_the_office_sees_every_plan_newest_first_and_filters_them(live, page):
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="方案列表").click()
    expect(page.locator("h1")).to_contain_text("全部方案")
    rows = page.locator("tr[data-plan]")
    expect(rows).to_have_count(12)
    with _engine(live).db.reader() as s:
        newest = s.execute(select(ProcessInstance.id).order_by(ProcessInstance.started_at.desc(),
                                                               ProcessInstance.id.desc())).scalars().all()
    assert [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.plan)")] == newest
    legality = _task(_engine(live), "DT-2015-04", "Task_LegalityReview")
    row = page.locator(f"tr[data-plan='{legality['instance_id']}']")
    expect(row).to_contain_text("合法合规性审查 · 待认领")  # its current step, and nobody holds it

    page.get_by_label("状态").select_option("completed")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("DT-2015-08")
    expect(rows.first).to_contain_text("已办结")

    page.get_by_label("状态").select_option("")
    page.get_by_label("搜索名称或业务编号").fill("dt-2015-08")  # any case
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(3)
    page.get_by_label("搜索名称或业务编号").fill("100%")  # a wildcard is a character searched for
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".empty")).to_contain_text("没有符合条件的方案")

    page.get_by_label("搜索名称或业务编号").fill("DT-2015-04")
    page.get_by_role("button", name="筛选").click()
    rows.first.get_by_role("link", name="DT-2015-04", exact=True).click()  # not 终止 DT-2015-04
    expect(page).to_have_url(f"{live.url}/plans/{legality['instance_id']}")


def test_a_drafter_sees_only_the_plans_that_concern_them_and_no_ledger(live, page):
    sign_in(page, live, "zhang")  # 市财政局: started DT-2015-02, reports for the work report round
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="台账")).to_have_count(0)
    nav.get_by_role("link", name="方案列表").click()
    expect(page.locator("h1")).to_contain_text("与我有关的方案")
    expect(page.locator("table.plans")).to_contain_text("DT-2015-02")
    expect(page.locator("table.plans")).not_to_contain_text("DT-2015-01")  # another unit's plan
    expect(page.get_by_role("link", name="终止")).to_have_count(0)

    response = page.goto(f"{live.url}/ledger")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("只有改革办可以查看此页面")
    assert page.goto(f"{live.url}/ledger.xlsx").status == 403


# ------------------------------------------------------------------ the ledger
def test_the_office_reads_the_ledger_in_colour_and_downloads_the_same_table(live, page):
    from openpyxl import load_workbook
    engine = _engine(live)
    year = clock.today().year  # the page's, by default
    expected = engine.ledger(year=year)
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="台账").click()
    expect(page.locator("h1")).to_contain_text(f"{year} 年度改革方案台账")
    cells = page.locator("td.warning")
    expect(cells).to_have_count(len(expected))
    assert cells.evaluate_all("cs => cs.map(c => c.dataset.colour)") == [r["colour"] for r in expected]
    red = next(r for r in expected if r["colour"] == "red")
    cell = page.locator(f"tr[data-plan='{red['id']}'] td.warning")
    expect(cell).to_have_text("红")
    expect(cell).to_have_css("background-color", "rgb(255, 199, 206)")
    expect(page.locator(f"tr[data-plan='{red['id']}']")).to_contain_text("已逾期")

    page.get_by_label("预警").select_option("red")
    page.get_by_role("button", name="筛选").click()
    reds = engine.ledger(colour="red", year=year)
    expect(cells).to_have_count(len(reds))
    assert 0 < len(reds) < len(expected)

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).worksheets[0]
    assert [c.value for c in sheet[1]][:6] == ["编号", "业务编号", "方案名称", "流程", "状态", "预警"]
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == [r["id"] for r in reds]
    assert sheet.cell(2, 6).value == "红" and sheet.cell(2, 6).fill.start_color.rgb.endswith("FFC7CE")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("\ufeff")  # Excel reads the Chinese
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [int(line[0]) for line in table[1:]] == [r["id"] for r in reds]


def test_a_plan_s_page_shows_its_line_of_the_ledger(demo_engine):
    """What the ledger says of a plan is on the plan's own page, for whoever may see the plan:
    lead unit, responsible person, milestone, measures, the warning colour and each missed
    deadline; the drafter of a red plan sees why it is red without the ledger, which is the office's."""
    rows = {r["business_key"]: r for r in demo_engine.ledger()}
    red, yellow = rows["DT-2015-08-LS"], rows["DT-2015-08"]
    assert (red["colour"], yellow["colour"]) == ("red", "yellow") and red["measures"]

    def facts(client, plan_id):
        html = client.get(f"/plans/{plan_id}").get_data(as_text=True)
        dl = html.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
        return {m.group(1): re.sub(r"<[^>]+>|\s+", " ", m.group(2)).split() for m in
                re.finditer(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", dl, re.S)}

    xie = signed_in_client(demo_engine, "xie")  # the lead unit's drafter
    shown = facts(xie, red["id"])
    assert shown["牵头单位"] == ["市经信委"] and shown["责任人"] == [red["responsible_person"]]
    due = date.fromisoformat(red["milestone_due"])  # on a Chinese page as 2027年6月4日
    assert shown["时间节点"][:3] == ["举措全部完成", "·", "计划"] and f"{due.year}年{due.month}月{due.day}日" in shown["时间节点"]
    assert "".join(shown["举措"]).startswith("共5项")
    assert shown["预警"][:2] == ["红", "有期限已过而未完成"]
    assert any("报送月度进展" in word for word in shown["预警"]) and "已逾期" in "".join(shown["预警"])
    assert xie.get("/ledger").status_code == 403  # the ledger itself stays the office's
    chen = signed_in_client(demo_engine, "chen")
    shown = facts(chen, yellow["id"])
    assert shown["预警"][:2] == ["黄", "曾逾期，已补上"] and "迟" in "".join(shown["预警"])
    assert "已于" in shown["时间节点"]  # issued: the milestone reached


def test_the_ledger_is_this_years_with_the_plans_carried_over_and_any_year_chosen(live, page, at):
    """A plan started last year and still open is on this year's ledger, marked 结转; one started
    and stopped last year is not; the year chosen is the heading's, the download's and its file's."""
    from openpyxl import load_workbook
    engine = _engine(live)
    year, today = clock.today().year, clock.today()
    with at(f"{year - 1}-03-02T09:00:00"):
        carried = engine.start("reform_plan", actor="zhang", title="推进户籍制度改革方案", business_key="HJ-01")
        closed = engine.start("reform_plan", actor="zhang", title="推进医药卫生体制改革方案", business_key="YY-01")
    with at(f"{year - 1}-11-20T09:00:00"):
        engine.cancel_plan(closed["id"], reason="与其他方案合并", actor="chen")
    this_year = engine.ledger(year=year)
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="台账").click()
    heading = page.locator("h1")
    expect(heading).to_contain_text(f"{year} 年度改革方案台账")
    expect(heading).to_contain_text(f"共 {len(this_year)} 个方案")
    expect(heading).to_contain_text(f"其中以前年度结转 {sum(r['carried_over'] for r in this_year)} 个")
    expect(page.locator("td.warning")).to_have_count(len(this_year))
    row = page.locator(f"tr[data-plan='{carried['id']}']")
    expect(row.locator(".carried")).to_have_text("结转")
    expect(row.locator(".carried")).to_have_attribute("title", f"{year} 年以前发起，年初尚未办结")
    expect(page.locator(f"tr[data-plan='{closed['id']}']")).to_have_count(0)  # closed before the year began
    expect(page.locator("tr[data-plan] .carried")).to_have_count(sum(r["carried_over"] for r in this_year))

    # the years with plans, newest first, then all years; this year chosen
    years = page.locator("select[name=year]")  # labelled 年度
    assert years.locator("option").all_inner_texts() == [f"{y} 年" for y in engine.ledger_years()] + ["全部年度"]
    assert engine.ledger_years()[:2] == [year, year - 1]
    expect(years).to_have_value(str(year))
    xlsx = page.get_by_role("link", name="Excel (.xlsx)")
    expect(xlsx).to_have_attribute("href", f"/ledger.xlsx?year={year}")
    with page.expect_download() as download:
        xlsx.click()
    assert download.value.suggested_filename == f"{year}年度改革方案台账-{today:%Y%m%d}.xlsx"
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).worksheets[0]
    assert sheet.title == f"{year}年度改革方案台账"
    assert sheet.cell(1, sheet.max_column).value == "结转"
    marked = {sheet.cell(r, 1).value: sheet.cell(r, sheet.max_column).value for r in range(2, sheet.max_row + 1)}
    assert marked[carried["id"]] == "是" and closed["id"] not in marked and len(marked) == len(this_year)

    # last year: both plans, neither carried over; the filter kept with the others
    years.select_option(str(year - 1))
    page.get_by_label("预警").select_option("green")
    page.get_by_role("button", name="筛选").click()
    expect(heading).to_contain_text(f"{year - 1} 年度改革方案台账")
    expect(years).to_have_value(str(year - 1))
    expect(page.locator(f"tr[data-plan='{closed['id']}']")).to_contain_text("已终止")
    expect(row).to_be_visible()
    expect(row.locator(".carried")).to_have_count(0)
    expect(xlsx).to_have_attribute("href", f"/ledger.xlsx?colour=green&year={year - 1}")

    # all years: every plan ever started, as the ledger was, none marked
    years.select_option(label="全部年度")
    page.get_by_label("预警").select_option("")
    page.get_by_role("button", name="筛选").click()
    expect(heading).to_contain_text("改革方案台账（全部年度）")
    expect(page.locator("td.warning")).to_have_count(len(engine.ledger()))
    expect(page.locator(".carried")).to_have_count(0)
    expect(xlsx).to_have_attribute("href", "/ledger.xlsx?year=all")
    with page.expect_download() as download:
        xlsx.click()
    assert download.value.suggested_filename == f"改革方案台账-{today:%Y%m%d}.xlsx"

    # in English, the same
    page.goto(f"{live.url}/ledger")
    page.get_by_role("button", name="English").click()
    expect(heading).to_contain_text(f"Reform plan ledger {year}")
    expect(row.locator(".carried")).to_have_text("carried over")
    expect(years.locator("option").last).to_have_text("All years")

    # a year that is not one is refused in a sentence, and this year's ledger shown
    page.goto(f"{live.url}/ledger?year=abc")
    expect(page.get_by_role("alert")).to_contain_text("The year is a number")
    assert page.goto(f"{live.url}/ledger?year=1899").status == 400
    expect(page.get_by_role("alert")).to_contain_text("The year must be from 1900 to 2100")


# ------------------------------------------------------------------ assigning
def test_the_office_assigns_an_open_task_to_one_of_its_candidates(live, page):
    engine = _engine(live)
    review = _task(engine, "DT-2015-04", "Task_LegalityReview")  # open, for the legal group
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks/{review['id']}")
    options = page.locator("#assign-to option")
    assert options.evaluate_all("os => os.map(o => o.value)") == ["li"]  # the engine's rule: legal members only
    page.get_by_role("button", name="指派").click()
    expect(page.get_by_role("status")).to_contain_text(f"已将任务 {review['id']}「合法合规性审查」指派给 李娜（li）")
    expect(page.locator("h1")).to_contain_text("办理中")
    assert engine.task_view(review["id"])["assignee"] == "li"
    [event] = _events(engine, review["instance_id"], "task_assigned")
    assert event["actor"] == "chen" and event["new"] == {"assignee": "li"} and event["old"] == {"assignee": None}


def test_the_office_s_full_inbox_offers_to_claim_only_its_own_tasks(live, page):
    """全部 lists every open task to the office; a claim button on the legal review would only
    bring the engine's refusal: the row and the task's page say who takes it instead."""
    engine = _engine(live)
    review = _task(engine, "DT-2015-04", "Task_LegalityReview")  # open, for the legal group
    with engine.db.reader() as s:
        rows = list_tasks(s, "chen", "all")
        own = {t["id"] for t in list_tasks(s, "chen", "claimable")}
    assert own and {t["id"] for t in rows if t["may_claim"]} == own
    sign_in(page, live, "chen")
    row = page.locator("table.inbox tbody tr", has=page.get_by_role("link", name="合法合规性审查"))
    expect(row.get_by_role("button", name="认领")).to_have_count(0)
    for task_id in own:
        claimable = page.locator("table.inbox tbody tr", has=page.get_by_text(str(task_id), exact=True))
        expect(claimable.get_by_role("button", name="认领")).to_have_count(1)
    page.goto(f"{live.url}/tasks/{review['id']}")
    expect(page.get_by_role("button", name="认领")).to_have_count(0)
    expect(page.locator("p.not-claimable")).to_have_text(
        "尚无人认领：由候选人认领办理，您不在其中。 改革办可在下方指派给其中一人。")
    expect(page.get_by_role("button", name="指派")).to_have_count(1)
    page.get_by_role("button", name="退出").click()
    sign_in(page, live, "li")  # a candidate
    page.goto(f"{live.url}/tasks/{review['id']}")
    expect(page.get_by_role("button", name="认领")).to_have_count(1)
    expect(page.locator("p.not-claimable")).to_have_count(0)


def test_reassigning_a_task_someone_holds_asks_first(live, page):
    engine = _engine(live)
    drafting = _task(engine, "DT-2015-02", "Task_PublicConsultation")  # zhang of 市财政局 holds it
    assert drafting["assignee"] == "zhang"
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks/{drafting['id']}")
    expect(page.locator("section.assign")).to_contain_text("现由张伟（zhang）办理")
    expect(page.locator("#assign-to option[value='zhang']")).to_have_count(0)  # not to its holder
    expect(page.locator("#assign-to option[value='wang']")).to_contain_text("非本单位")
    page.get_by_label("交给").select_option("wang")
    page.get_by_role("button", name="改派").click()

    expect(page.locator("h1")).to_contain_text("确认改派")
    expect(page.get_by_role("alert")).to_contain_text("现由张伟（zhang）办理")
    assert engine.task_view(drafting["id"])["assignee"] == "zhang"  # nothing done yet
    page.get_by_role("button", name="确认改派").click()
    expect(page.get_by_role("status")).to_contain_text("指派给 王芳（wang）")
    assert engine.task_view(drafting["id"])["assignee"] == "wang"
    [event] = _events(engine, drafting["instance_id"], "task_assigned")
    assert event["old"] == {"assignee": "zhang"} and event["unit"] == "市政府办公厅"  # outside the lead unit, on the trail


def test_two_office_members_assigning_the_same_task_is_a_conflict_not_an_overwrite(live, browser):
    engine = _engine(live)
    engine.add_user("li2", "李二", groups=["legal"], unit="市司法局", password="demo")
    review = _task(engine, "DT-2015-04", "Task_LegalityReview")
    pages = []
    for who in ("chen", "yang"):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        p = context.new_page()
        sign_in(p, live, who)
        p.goto(f"{live.url}/tasks/{review['id']}")
        pages.append(p)
    chen, yang = pages
    chen.get_by_label("交给").select_option("li")
    chen.get_by_role("button", name="指派").click()
    expect(chen.get_by_role("status")).to_contain_text("指派给 李娜（li）")

    yang.get_by_label("交给").select_option("li2")  # the page yang loaded still shows it open
    with yang.expect_response(re.compile(rf"/tasks/{review['id']}/assign$")) as answer:
        yang.get_by_role("button", name="指派").click()
    assert answer.value.status == 409
    expect(yang.get_by_role("alert")).to_contain_text("已在别处处理或修改（其他人，或您在另一个页面），请刷新后重试")
    assert engine.task_view(review["id"])["assignee"] == "li"
    assert len(_events(engine, review["instance_id"], "task_assigned")) == 1
    for p in pages:
        p.context.close()


def test_a_drafter_has_no_assign_form_and_a_direct_post_is_refused_by_the_engine(live, page):
    engine = _engine(live)
    drafting = _task(engine, "DT-2015-02", "Task_PublicConsultation")
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{drafting['id']}")
    expect(page.locator("h1")).to_contain_text("发布公开征求意见")
    expect(page.locator("section.assign")).to_have_count(0)
    for form in ({"to": "wang", "version": str(drafting["version"])},
                 {"to": "wang", "version": str(drafting["version"]), "reassign": "1"}):
        response = page.request.post(f"{live.url}/tasks/{drafting['id']}/assign",
                                     form=form | {"csrf_token": _csrf(page)})
        assert response.status == 403
        assert "只有改革办可以指派任务" in response.text()
    assert engine.task_view(drafting["id"])["assignee"] == "zhang"
    # and no form without its CSRF token
    assert page.request.post(f"{live.url}/tasks/{drafting['id']}/assign", form={"to": "wang"}).status == 400


# ------------------------------------------------------------------ stopping a plan
def test_the_office_stops_a_plan_with_a_reason_after_confirming(live, page):
    engine = _engine(live)
    plan_id = _plan_id(engine, "DT-2015-03")
    open_tasks = engine.instance(plan_id)["tasks"]
    assert open_tasks
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans?q=DT-2015-03")
    page.locator(f"tr[data-plan='{plan_id}']").get_by_role("link", name="终止").click()
    expect(page.locator("h1")).to_contain_text("终止方案")
    expect(page.locator("ul.steps")).to_contain_text(open_tasks[0]["name"])

    page.get_by_role("button", name="下一步").click()  # no reason: refused here, nothing done
    expect(page.get_by_role("alert")).to_contain_text("须写明终止理由")
    page.get_by_label("终止理由").fill("与 DT-2015-01 重复发起")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("alert")).to_contain_text("确定终止方案「推进用地管理改革方案」吗")
    assert engine.instance(plan_id)["status"] == "running"
    page.get_by_role("button", name="确认终止").click()

    expect(page).to_have_url(f"{live.url}/plans/{plan_id}")
    expect(page.get_by_role("status")).to_contain_text(f"撤销待办 {len(open_tasks)} 项")
    expect(page.locator("h1")).to_contain_text("已终止")
    view = engine.instance(plan_id)
    assert view["status"] == "cancelled" and view["tasks"] == []
    [event] = _events(engine, plan_id, "instance_cancelled")
    assert event["actor"] == "chen" and event["reason"] == "与 DT-2015-01 重复发起"


def test_a_drafter_may_not_stop_a_plan(live, page):
    engine = _engine(live)
    plan_id = _plan_id(engine, "DT-2015-02")  # zhang's own
    sign_in(page, live, "zhang")
    assert page.goto(f"{live.url}/plans/{plan_id}/stop").status == 403
    expect(page.get_by_role("alert")).to_contain_text("只有改革办可以查看此页面")
    response = page.request.post(f"{live.url}/plans/{plan_id}/stop",
                                 form={"reason": "不办了", "confirm": "1", "csrf_token": _csrf(page)})
    assert response.status == 403 and "只有改革办可以终止方案" in response.text()
    assert engine.instance(plan_id)["status"] == "running"


# ------------------------------------------------------------------ starting a plan
def test_a_drafter_starts_a_plan_on_its_start_form(live, page):
    engine = _engine(live)
    sign_in(page, live, "zhang")
    page.get_by_role("navigation").get_by_role("link", name="发起方案").click()
    expect(page.get_by_role("link", name="改革方案全流程")).to_be_visible()
    expect(page.get_by_role("link", name="改革进展报告（半年报告·年度总结）")).to_have_count(0)  # office only
    page.get_by_role("link", name="改革方案落实与督察").click()
    page.get_by_label("方案名称").fill("预算绩效管理改革实施")
    page.get_by_label("业务编号").fill("SS-2026-01")
    page.locator("#f-leadUnit").fill("市财政局")
    page.get_by_label("改革举措数").fill("0")
    page.get_by_role("button", name="发起").click()  # refused at its fields, what was entered kept
    expect(page.get_by_role("alert")).to_contain_text("方案未发起")
    expect(page.locator("[data-field='measureCount'] .problem")).to_contain_text("不得小于 1")
    expect(page.locator("[data-field='documentNumber'] .problem")).to_contain_text("为必填项")
    expect(page.locator("#f-leadUnit")).to_have_value("市财政局")
    expect(page.get_by_label("业务编号")).to_have_value("SS-2026-01")

    page.get_by_label("方案文号").fill("同财发〔2026〕3号")
    page.get_by_label("改革举措数").fill("4")
    page.get_by_label("实施开始日期").fill("2026-01-01")
    page.get_by_label("计划完成日期").fill("2026-12-31")
    page.get_by_label("委托第三方评估").check()
    page.get_by_role("button", name="发起").click()
    expect(page.get_by_role("status")).to_contain_text("已发起方案「预算绩效管理改革实施」")
    plan_id = _plan_id(engine, "SS-2026-01")
    expect(page).to_have_url(f"{live.url}/plans/{plan_id}")
    view = engine.instance(plan_id)
    assert view["started_by"] == "zhang" and view["definition_key"] == "implementation"
    assert view["variables"]["measureCount"] == 4 and view["variables"]["thirdPartyEvaluation"] is True
    assert view["variables"]["pilot"] is False  # an unticked box


def test_a_plan_without_a_start_form_takes_a_title_and_key_and_a_used_key_is_a_conflict(live, page):
    engine = _engine(live)
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/plans/new?key=reform_plan")
    expect(page.locator("form.task-form")).to_contain_text("此流程发起时不填表单")
    page.get_by_label("方案名称").fill("深化国库集中支付改革方案")
    page.get_by_label("业务编号").fill("DT-2015-02")
    with page.expect_response(re.compile(r"/plans/new")) as answer:
        page.get_by_role("button", name="发起").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("业务编号 DT-2015-02 已被使用")
    page.get_by_label("业务编号").fill("DT-2026-30")
    page.get_by_role("button", name="发起").click()
    expect(page.locator("ul.steps")).to_contain_text("确认方案任务信息")  # the first step, for the starter
    assert engine.instance(_plan_id(engine, "DT-2026-30"))["tasks"][0]["assignee"] == "zhang"


def test_a_process_kept_to_its_starters_is_refused_by_the_engine(live, page):
    engine = _engine(live)
    with engine.db.reader() as s:
        before = s.execute(select(ProcessInstance.id)).scalars().all()
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/plans/new?key=work_report")
    expect(page.locator("p.flash.error")).to_contain_text("此流程仅限 改革办 发起")
    with page.expect_response(re.compile(r"/plans/new")) as answer:
        page.get_by_role("button", name="发起").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("您无权发起")
    with engine.db.reader() as s:
        assert s.execute(select(ProcessInstance.id)).scalars().all() == before


def test_the_office_pages_speak_english_when_asked(live, page):
    sign_in(page, live, "chen")
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation").get_by_role("link", name="Ledger").click()
    expect(page.locator("h1")).to_contain_text("Reform plan ledger")
    expect(page.locator("td.warning").first).to_have_text(re.compile("Red|Yellow|Green"))
    expect(page.locator("table.ledger")).not_to_contain_text("已逾期")  # the engine's texts, English half
    page.get_by_role("navigation").get_by_role("link", name="Plans").click()
    expect(page.locator("h1")).to_contain_text("All plans")


# ------------------------------------------------------------------ the filter, on both databases
def _visible(engine, person: Person) -> list[str]:
    with engine.db.reader() as s:
        return s.execute(select(ProcessInstance.business_key).where(visible_plans(person))
                         .order_by(ProcessInstance.business_key)).scalars().all()


def test_who_sees_which_plan_in_the_list(engine):
    deploy_library(engine)
    add_people(engine)  # zhang and wang: drafters of 市财政局; chen: the office; zhao, li: no unit
    engine.add_user("qian", "钱进", groups=["drafter"], unit="市国资委")
    engine.add_user("xu", "徐立", groups=["drafter"], unit="市国资委")
    # the office starts A for 市国资委 (a drafter starts only for their own unit)
    state_assets = engine.start("reform_plan", actor="chen", business_key="A", data={"leadUnit": " 市国资委 "})
    finance = engine.start("reform_plan", actor="zhang", business_key="B", data={"leadUnit": "市财政局"})
    engine.start("reform_plan", actor="wang", business_key="C", data={})  # no unit given: his own
    engine.start("reform_plan", actor="chen", business_key="D", data={})  # the office's, no unit yet

    def person(name, groups, unit=None):
        return Person(name, name, groups, unit)
    chen, zhang, wang = person("chen", ["reform_office"]), person("zhang", ["drafter"], "市财政局"), \
        person("wang", ["drafter"], "市财政局")
    qian, xu, zhao = person("qian", ["drafter"], "市国资委"), person("xu", ["drafter"], "市国资委 "), \
        person("zhao", ["participant"])
    assert _visible(engine, chen) == ["A", "B", "C", "D"]
    assert _visible(engine, zhang) == ["B", "C", "D"]  # started B; his unit leads C; a drafter of D's open first step
    assert _visible(engine, wang) == ["B", "C", "D"]  # started C; their unit leads B; A's first step is kept to 市国资委
    # A: their unit leads it (trimmed); not C, which wang started for his unit; D: any drafter may take its step
    assert _visible(engine, qian) == ["A", "D"]
    assert _visible(engine, zhao) == []  # no unit: a plan without a lead unit is not theirs

    # held and taken away again: the trail remembers
    first = engine.instance(finance["id"])["tasks"][0]
    engine.assign(first["id"], to="qian", actor="chen", reassign=True)
    assert _visible(engine, qian) == ["A", "B", "D"]
    engine.assign(first["id"], to="zhang", actor="chen", reassign=True)
    assert _visible(engine, qian) == ["A", "B", "D"]
    assert _visible(engine, xu) == ["A", "D"]  # the same unit as qian, never held B
    assert engine.instance(state_assets["id"])["tasks"][0]["candidate_unit"] == "市国资委"


def test_the_office_starts_a_round_of_reports_listing_its_bodies_one_a_line(demo_engine):
    """改革进展报告 lists its reporting bodies at start (reporters); the start page had no way to enter
    them and every attempt was refused. They are typed one a line: 「单位名称 用户名」 or 「单位 @组」."""
    chen = signed_in_client(demo_engine, "chen")
    page = chen.get("/plans/new?key=work_report").get_data(as_text=True)
    assert 'name="reporting-bodies"' in page and "此流程发起时不填表单" not in page
    bad = chen.post("/plans/new?key=work_report", data={
        "plan_title": "2027年上半年改革进展报告", "plan_business_key": "BG-2027-H1",
        "reporting-bodies": "市财政局 zhang\n市国资委"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "报送单位第 2 行「市国资委」应为「单位名称 用户名」" in html
    assert "市财政局 zhang\n市国资委</textarea>" in html  # kept to correct
    done = chen.post("/plans/new?key=work_report", data={
        "plan_title": "2027年上半年改革进展报告", "plan_business_key": "BG-2027-H1",
        "reporting-bodies": "市财政局 zhang\n市国资委，song\n\n市经信委 @drafter\n"})
    assert done.status_code == 302
    plan = demo_engine.instance(int(done.headers["Location"].rsplit("/", 1)[1]))
    assert plan["variables"]["reporters"] == [{"unit": "市财政局", "user": "zhang"}, {"unit": "市国资委", "user": "song"},
                                              {"unit": "市经信委", "group": "drafter"}]
