"""工作台 (/overview) in a real browser over the demo, as the reform office's head opens it in the
morning: the year's ledger counted by colour, each count a link to the ledger filtered so; what is
late and due soon, the units most behind; and nobody else may open it, on the page or in the
JSON API (GET /api/v1/overview)."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import expect

from engine import clock, display

from .web_helper import sign_in, signed_in_client


def _engine(live):
    return live.app.extensions["reformflow"]


def test_the_office_clicks_the_red_count_and_lands_on_the_ledger_filtered_red(live, page):
    engine = _engine(live)
    year = clock.today().year
    ledger = engine.ledger(year=year)
    reds = [r for r in ledger if r["colour"] == "red"]
    assert reds, "the demo has a red plan"
    sign_in(page, live, "chen")
    link = page.get_by_role("navigation").get_by_role("link", name="工作台")
    link.click()
    expect(page.locator("h1")).to_contain_text("工作台")
    expect(link).to_have_attribute("aria-current", "page")
    for colour in ("red", "yellow", "green"):
        expect(page.locator(f"td[data-colour='{colour}'] a")).to_have_text(
            str(sum(r["colour"] == colour for r in ledger)))
    view = engine.overview("chen")
    expect(page.locator("[data-figure='overdue']")).to_have_text(str(view["overdue"]["count"]))
    expect(page.locator("[data-figure='overdue']")).to_have_attribute("href", "/tasks?scope=all&overdue=1")
    expect(page.locator("[data-figure='due-soon']")).to_have_text(str(view["due_soon"]["count"]))
    expect(page.locator("[data-figure='due-soon']")).to_have_attribute("href", "/tasks?scope=all&due=soon")
    expect(page.locator("[data-figure='claimable']")).to_have_attribute("href", "/tasks?scope=claimable")
    expect(page.locator("[data-figure='claimable']")).to_have_text(str(view["claimable"]))
    expect(page.locator("[data-figure='filings-overdue']")).to_have_text(str(view["filings"]["overdue"]))
    expect(page.locator("[data-figure='filings-overdue']")).to_have_attribute(
        "href", "/tasks?scope=all&overdue=1&step=Task_FileDocument")  # by the diagram's element, not its name
    # the units most behind, a lead unit a link to its year's ledger; a reporting body late only with
    # its report leads no plan there: its name alone
    units = page.locator("tr[data-unit]")
    top = view["units"]["top"]
    expect(units).to_have_count(len(top))
    for i, unit in enumerate(top):
        if unit["lead_unit"] and unit["overdue"] > unit["reports"]:
            expect(units.nth(i).get_by_role("link")).to_have_text(unit["lead_unit"])
        elif unit["lead_unit"]:
            expect(units.nth(i)).to_contain_text(f"{unit['lead_unit']} （其中 {unit['reports']} 项为本单位应报的报告）")
            expect(units.nth(i).get_by_role("link")).to_have_count(0)

    page.locator("td[data-colour='red'] a").click()
    page.wait_for_url(f"{live.url}/ledger?year={year}&colour=red")
    expect(page.locator("h1")).to_contain_text(f"{year} 年度改革方案台账")
    cells = page.locator("td.warning")
    expect(cells).to_have_count(len(reds))
    assert set(cells.evaluate_all("cs => cs.map(c => c.dataset.colour)")) == {"red"}


def test_the_overview_counts_what_the_inbox_lists_as_overdue(live):
    engine = _engine(live)
    client = signed_in_client(engine, "chen")
    view = engine.overview("chen")
    overdue = client.get("/tasks?scope=all&overdue=1")
    assert overdue.status_code == 200
    from web.inbox import PAGE
    assert overdue.get_data(as_text=True).count('class="overdue"') == min(view["overdue"]["count"], PAGE)


def test_a_drafter_has_no_overview_on_the_page_or_in_the_api(live, page):
    engine = _engine(live)
    sign_in(page, live, "zhang")
    expect(page.get_by_role("navigation").get_by_role("link", name="工作台")).to_have_count(0)
    response = page.goto(f"{live.url}/overview")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("只有改革办可以查看此页面")

    from web import create_app
    client = create_app(engine=engine, secret_key="test", testing=True).test_client()
    theirs = engine.create_token("zhang", "看板")["secret"]
    ours = engine.create_token("chen", "看板")["secret"]
    refused = client.get("/api/v1/overview", headers={"Authorization": f"Bearer {theirs}"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    answered = client.get("/api/v1/overview", headers={"Authorization": f"Bearer {ours}"})
    assert answered.status_code == 200
    body = answered.get_json()
    assert body["year"] == clock.today().year
    assert body["ledger"] == engine.overview("chen")["ledger"]


def test_the_overview_in_english(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/overview")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("Overview")
    expect(page.locator("#ov-ledger")).to_have_text("This year's ledger")
    expect(page.get_by_role("navigation").get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")


def test_the_due_soon_count_opens_the_inbox_s_due_soon_list(live, page):
    """The inbox's 只看即将到期: the open steps due within 5 working days, not yet overdue, as the
    overview counts them; beside 只看已逾期, each with its count, for everyone's inbox."""
    engine = _engine(live)
    view = engine.overview("chen")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/overview")
    page.locator("[data-figure='due-soon']").click()
    expect(page.get_by_text("只看即将到期", exact=True)).to_have_attribute("aria-current", "true")
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(min(view["due_soon"]["count"], 50))
    assert {int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.task)")} == \
        {t["task_id"] for t in view["due_soon"]["tasks"]}
    expect(page.locator("p.hint")).to_contain_text(f"至 {display.day(view['due_soon']['until'], True)}")
    page.get_by_role("link", name="显示全部").click()
    expect(page.get_by_role("link", name="只看即将到期")).to_be_visible()


def test_the_filings_figure_lists_the_filing_steps_by_their_element(live, page):
    """报送备案 found by its element id (Task_FileDocument), so that a plan titled with the same words,
    or the step renamed in the diagram, changes nothing."""
    engine = _engine(live)
    view = engine.overview("chen")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/overview")
    page.locator("[data-figure='filings-overdue']").click()
    expect(page.locator("p.step-filter")).to_contain_text("只看环节「报送备案」")
    rows = page.locator("table.inbox tbody tr")
    expect(rows).to_have_count(view["filings"]["overdue"])
    assert {int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.task)")} == \
        {t["task_id"] for t in view["filings"]["tasks"] if t["overdue"]}
    page.locator("p.step-filter").get_by_role("link", name="所有环节").click()
    expect(page.locator("p.step-filter")).to_have_count(0)
    # a filter that lists nothing (no filing due soon) still names the step, not its element id
    page.goto(f"{live.url}/tasks?scope=all&due=soon&step=Task_FileDocument&q=没有这样的方案")
    expect(page.locator("table.inbox tbody tr")).to_have_count(0)
    expect(page.locator("p.step-filter")).to_contain_text("只看环节「报送备案」")


def test_the_office_is_told_of_a_year_with_no_holidays_entered_and_goes_to_enter_it(live, page):
    """The demo's deadlines reach a year that the calendar package (1.11.0: none after 2026) does
    not know: the overview names it, with the open steps due in it, and links to that year's
    calendar, where the schedule is entered."""
    engine = _engine(live)
    gaps = engine.overview("chen")["calendar_gaps"]
    assert gaps, "the pinned chinesecalendar knows no year after 2026, and 90 days on is one"
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/overview")
    banners = page.locator("section.calendar-gap")
    expect(banners).to_have_count(len(gaps))
    first = banners.first
    expect(first.get_by_role("heading")).to_have_text(f"尚未录入 {gaps[0]['year']} 年的节假日安排")
    if gaps[0]["steps"]:
        expect(first).to_contain_text(f"{gaps[0]['steps']} 个未办结环节以工作日计的期限在 {gaps[0]['year']} 年，标为“暂定”")
    # what is counted meanwhile (engine/workdays.py rule 3): the holidays by law and weekends
    expect(first).to_contain_text(f"落在 {gaps[0]['year']} 年的期限现在暂按法定节假日（逢周末的补假为推定）和周末计算，调休未录入")
    first.get_by_role("link").click()
    page.wait_for_url(f"{live.url}/calendar/{gaps[0]['year']}")
    expect(page.locator("h1")).to_contain_text(f"{gaps[0]['year']} 年工作日日历")


def test_a_deadline_counted_over_a_year_with_no_holidays_is_marked_provisional_where_people_see_it(live, page):
    """A drafter saw only "期限 2027-01-04" for five working days counted across New Year's Day:
    the inbox row, the step's page and the plan's page mark such a deadline 暂定, with why in its
    title; a deadline of calendar months, or one within 2026, is not marked."""
    from engine.queries import list_tasks

    from .conftest import FIXTURES
    engine = _engine(live)
    engine.deploy([("mini_approval.bpmn", (FIXTURES / "diagrams" / "mini_approval.bpmn").read_bytes())])
    with clock.frozen(datetime.fromisoformat("2026-12-18T09:00:00")):  # its review: 15 working days, into 2027
        plan = engine.start("mini_approval", actor="zhang")
        engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "s"})
    with engine.db.reader() as s:
        listed = list_tasks(s, "chen", "all")
    provisional = [t for t in listed if t["due_provisional"]]
    plain = [t for t in listed if t["due_at"] and not t["due_provisional"]]
    assert provisional and plain
    assert plan["id"] in [t["instance_id"] for t in provisional]
    assert all(t["due_in_working_days"] and t["due_at"] >= "2026-12-31" for t in provisional)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks?scope=all")
    for t in provisional + plain:
        row = page.locator(f"tr[data-task='{t['id']}']")
        if row.count():
            expect(row.locator(".provisional")).to_have_count(1 if t["due_provisional"] else 0)
    marked = provisional[0]
    page.goto(f"{live.url}/tasks/{marked['id']}")
    mark = page.locator("dd .provisional")
    expect(mark).to_have_text("暂定")
    assert mark.get_attribute("title").startswith(f"{marked['due_at'][:4]} 年节假日安排尚未录入")
    page.goto(f"{live.url}/plans/{marked['instance_id']}")
    expect(page.locator(".provisional").first).to_have_text("暂定")
    page.goto(f"{live.url}/tasks/{plain[0]['id']}")
    expect(page.locator(".provisional")).to_have_count(0)


def test_the_filings_due_soon_figure_opens_exactly_those_filings(live):
    engine = _engine(live)
    view = engine.overview("chen")
    client = signed_in_client(engine, "chen")
    page = client.get("/overview").get_data(as_text=True)
    assert 'data-figure="filings-soon" href="/tasks?scope=all&amp;due=soon&amp;step=Task_FileDocument"' in page
    listed = client.get("/tasks?scope=all&due=soon&step=Task_FileDocument").get_data(as_text=True)
    from web.inbox import PAGE
    assert listed.count("data-task=") == min(view["filings"]["due_soon"], PAGE)


def test_a_stopped_timer_worker_is_said_on_the_overview_and_on_the_plans_page(live, page):
    """The audit of 6 December 2026: the worker stopped for weeks and no page said so; a plan
    whose consultation period had ended showed 「没有待办环节」 and 绿. A running plan's timer due
    2 hours ago and not fired (no worker runs beside this server)."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from models import ProcessInstance
    engine = _engine(live)
    assert engine.overview("chen")["timers_behind"] is None, "the demo's timers are not yet due"
    with engine.db.reader() as s:
        running = s.execute(select(ProcessInstance.id).where(ProcessInstance.status == "running")
                            .order_by(ProcessInstance.id)).scalars().all()
    plan, other = running[0], running[1]
    due = (clock.real_now() - timedelta(hours=2)).replace(microsecond=0)
    with engine.db.transaction() as s:
        s.execute(update(ProcessInstance).where(ProcessInstance.id == plan).values(next_timer_at=due))
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/overview")
    banner = page.locator("section.timers-behind")
    expect(banner.get_by_role("heading")).to_have_text("定时器工作进程似乎已停止")
    expect(banner).to_contain_text(f"自 {display.minute(due.isoformat(), chinese=True)} 起，有方案的定时器到期而尚未触发")
    expect(banner).to_contain_text("请系统管理员检查定时器工作进程 reformflow-worker")
    page.goto(f"{live.url}/plans/{plan}")
    expect(page.locator("section.timers-behind")).to_contain_text(
        f"本方案的定时器本应于 {display.minute(due.isoformat(), chinese=True)} 触发，尚未触发")
    # another running plan's page says nothing of it: its own timer is not behind
    page.goto(f"{live.url}/plans/{other}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("section.timers-behind")).to_have_count(0)
