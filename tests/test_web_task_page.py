"""A task's page and a plan's trail in a real browser, over the demo: the trail in the page's
language, a task's files (download, attach without completing), the field hints the command
line's `reformflow task` gives, read-only fields as text, what was given earlier, who holds a
task; a page gone stale is a conflict that keeps what was typed; and who may see what."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.exc import NoResultFound

from engine import clock, display
from engine.workdays import add_months
from web.access import may_see_plan, may_see_task_id

from . import file_samples
from .web_helper import open_task, page_text, plan_id, sign_in, signed_in_client


def _engine(live):
    return live.app.extensions["reformflow"]




def _new_page(browser, live, username: str):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    other = context.new_page()
    other.set_default_timeout(15_000)
    sign_in(other, live, username)
    return context, other


# ---------------------------------------------------------------- the trail in the page's language
def test_the_trail_speaks_the_page_s_language_only(live, page):
    review = open_task(_engine(live), "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/plans/{review['instance_id']}")
    trail = page.locator("ol.trail")
    expect(trail).to_contain_text("发起方案 ")
    expect(trail).to_contain_text("生成待办 合法合规性审查")
    assert "(started)" not in trail.inner_text() and "(task created)" not in trail.inner_text()

    page.get_by_role("button", name="English").click()
    expect(trail).to_contain_text("started ")
    expect(trail).to_contain_text("task created 合法合规性审查")
    page.wait_for_load_state("load")  # the whole trail, not the entries parsed so far
    text = trail.inner_text()
    assert "发起方案" not in text and "生成待办" not in text and "：" not in text


def test_each_trail_entry_reads_as_one_line_time_person_and_what_they_did(live, page):
    review = open_task(_engine(live), "DT-2015-04", "Task_LegalityReview")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/plans/{review['instance_id']}")
    entry = page.locator("ol.trail li").first
    time_box, who_box = entry.locator("time").bounding_box(), entry.locator(".who").bounding_box()
    assert abs(time_box["y"] - who_box["y"]) < 2, (time_box, who_box)  # not pushed to a line of its own
    assert who_box["x"] > time_box["x"] + time_box["width"]


# ---------------------------------------------------------------- files
def test_a_task_s_files_download_and_a_file_is_attached_without_completing(live, page, tmp_path):
    engine = _engine(live)
    consultation = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    [draft] = consultation["documents"]
    _, content = engine.document(draft["id"])
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{consultation['id']}")
    files = page.locator("section.documents").first
    expect(files).to_contain_text(draft["file_name"])
    with page.expect_download() as downloading:
        files.get_by_role("link", name=draft["file_name"]).click()
    assert downloading.value.suggested_filename == draft["file_name"]
    assert open(downloading.value.path(), "rb").read() == content
    answer = page.request.get(f"{live.url}/plans/{consultation['instance_id']}/files/{draft['id']}")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"

    # attach a file, not completing: what was typed stays, the task stays zhang's
    page.get_by_label("征求意见方式").fill("座谈会、网上公示")
    minutes = tmp_path / "座谈会记录.txt"
    minutes.write_text("座谈会记录：与会代表 12 人", encoding="utf-8")
    page.get_by_label("附件").set_input_files(str(minutes))
    page.get_by_role("button", name="仅上传所选附件").click()
    expect(page.get_by_role("status")).to_contain_text("已上传附件「座谈会记录.txt」，尚未提交")
    expect(page.locator("section.documents").first).to_contain_text("座谈会记录.txt")
    expect(page.get_by_label("征求意见方式")).to_have_value("座谈会、网上公示")
    after = engine.task_view(consultation["id"])
    assert (after["status"], after["assignee"]) == ("claimed", "zhang")
    assert [d["file_name"] for d in after["documents"]] == [draft["file_name"], "座谈会记录.txt"]
    # the version is unchanged by an attachment: submitting the page as it is still works
    assert after["version"] == consultation["version"]

    # a web page saved under a PDF's name is refused, saying what it is; what was typed stays
    saved_page = tmp_path / "征求意见稿.pdf"
    saved_page.write_bytes(file_samples.HTML)
    page.get_by_label("附件").set_input_files(str(saved_page))
    page.get_by_role("button", name="仅上传所选附件").click()
    expect(page.locator("main")).to_contain_text("附件 征求意见稿.pdf：文件名是 .pdf，但内容看起来是网页（HTML），"
                                                 "不是 .pdf 文件；请确认选对了文件")
    expect(page.get_by_label("征求意见方式")).to_have_value("座谈会、网上公示")
    assert len(engine.task_view(consultation["id"])["documents"]) == 2


def test_a_file_of_another_plan_or_of_a_plan_one_may_not_see_is_not_found(live, page):
    engine = _engine(live)
    consultation = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    [draft] = consultation["documents"]
    sign_in(page, live, "li")  # legal: nothing to do with DT-2015-02 yet
    answer = page.request.get(f"{live.url}/plans/{consultation['instance_id']}/files/{draft['id']}")
    assert answer.status == 404 and draft["file_name"] not in answer.text()
    sign_in(page, live, "zhang")
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    # zhang's own plan in the address, another plan's file id: no
    assert page.request.get(f"{live.url}/plans/{consultation['instance_id']}/files/999").status == 404
    assert page.request.get(f"{live.url}/plans/{review['instance_id']}/files/{draft['id']}").status == 404


# ---------------------------------------------------------------- what a field asks for
def _monthly_report(engine) -> dict:
    """DT-2015-09-LS's open monthly table: the demo files each month's by the 5th, so from the 6th
    the next one opens only on the 1st of the next month, when its timer fires."""
    try:
        return open_task(engine, "DT-2015-09-LS", "Task_MonthlyReport")
    except NoResultFound:
        plan = plan_id(engine, "DT-2015-09-LS")
        first = add_months(clock.today().replace(day=1), 1)
        with clock.frozen(datetime.combine(first, datetime.min.time(), tzinfo=clock.TZ).replace(second=1)):
            engine._fire_plan(plan)
        return open_task(engine, "DT-2015-09-LS", "Task_MonthlyReport")


def test_fields_say_their_range_read_only_fields_are_text_and_earlier_entries_show(live, page):
    engine = _engine(live)
    filing = open_task(engine, "DT-2015-07", "Task_FileDocument")
    bounds = filing["bounds"]["filingDate"]
    sign_in(page, live, "song")
    page.goto(f"{live.url}/tasks/{filing['id']}")
    number = page.locator("[data-field='documentNumber']")
    expect(number).to_contain_text(f"同改发〔{filing['values']['issueDate'][:4]}〕7号")  # the year it was issued
    assert number.locator("input, textarea, select").count() == 0  # text, not a disabled box
    expect(page.locator("[data-field='pilot']")).to_contain_text("否")
    expect(page.locator("[data-field='filingDate'] .field-hint")).to_have_text(
        f"{display.day(bounds['min'], True)}（印发日期） 至 {display.day(bounds['max'], True)}（今天）")
    expect(page.get_by_label("报送备案日期")).to_have_attribute("max", bounds["max"])

    monthly = _monthly_report(engine)
    earlier = engine.instance(monthly["instance_id"])["variables"]["progressSummary"]  # last month's table
    assert earlier.endswith("月：完成3项，清产核资和章程修订按计划推进")
    page.goto(f"{live.url}/tasks/{monthly['id']}")
    expect(page.locator("[data-field='measuresDone'] .field-hint")).to_have_text("0 至 4（不能超过举措总数）")
    expect(page.locator("[data-field='progressSummary'] .earlier")).to_have_text(f"此前填写：{earlier}")
    expect(page.get_by_label("本月进展")).to_have_value("")  # said apart, not prefilled
    page.get_by_role("button", name="English").click()
    expect(page.locator("[data-field='measuresDone'] .field-hint")).to_have_text("0 to 4 (不能超过举措总数)")
    expect(page.locator("[data-field='progressSummary'] .earlier")).to_contain_text(f"Given earlier: {earlier}")


def test_a_task_someone_else_holds_says_who_and_since_when(live, page):
    engine = _engine(live)
    filing = open_task(engine, "DT-2015-07", "Task_FileDocument")
    sign_in(page, live, "chen")  # the reform office sees it, may take it back
    page.goto(f"{live.url}/tasks/{filing['id']}")
    from engine import display
    expect(page.locator(".held")).to_have_text(
        f"自 {display.minute(filing['claimed_at'], True)} 起由宋涛（song）办理。")
    assert page.get_by_role("button", name="提交").count() == 0
    page.get_by_role("button", name="收回待办，交回待认领（改革办）").click()
    expect(page.get_by_role("status")).to_contain_text(f"已交回任务 {filing['id']}")
    assert engine.task_view(filing["id"])["status"] == "open"


# ---------------------------------------------------------------- a stale page
def test_submitting_a_page_gone_stale_is_a_conflict_that_keeps_what_was_typed(live, page, browser):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.add_user("li2", "李二", groups=["legal"], unit="市司法局", password="demo")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="认领").click()
    page.get_by_label("审查结论").select_option("pass")
    page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议。共审查条款 42 条。")

    # meanwhile, in the office: chen takes it back and li2 claims it, each in their own browser
    office, chen = _new_page(browser, live, "chen")
    chen.goto(f"{live.url}/tasks/{review['id']}")
    chen.get_by_role("button", name="收回待办，交回待认领（改革办）").click()
    expect(chen.get_by_role("status")).to_contain_text("已交回任务")
    office.close()
    colleague, li2 = _new_page(browser, live, "li2")
    li2.goto(f"{live.url}/tasks/{review['id']}")
    li2.get_by_role("button", name="认领").click()
    expect(li2.get_by_role("status")).to_contain_text("已认领任务")
    colleague.close()

    with page.expect_response(re.compile(rf"/tasks/{review['id']}/complete$")) as answer:
        page.get_by_role("button", name="提交").click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("已在别处处理或修改")
    expect(page.locator(".held")).to_contain_text("李二（li2）")
    expect(page.locator("[data-kept-field='legalityOpinion']")).to_have_value("符合法律法规，同意提交审议。共审查条款 42 条。")
    expect(page.locator("[data-kept-field='legalityResult']")).to_have_value("pass")
    page.wait_for_load_state("load")  # the form below what was kept parsed too: count() does not wait
    assert page.get_by_role("button", name="提交").count() == 0
    now = engine.task_view(review["id"])
    assert (now["status"], now["assignee"], now["completed_by"]) == ("claimed", "li2", None)


# ---------------------------------------------------------------- who may see what
def test_a_task_or_plan_one_may_not_see_is_not_found_like_one_that_does_not_exist(live, page):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    consultation = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    sign_in(page, live, "zhang")  # a drafter of 市财政局
    hidden = page.goto(f"{live.url}/tasks/{review['id']}")
    assert hidden.status == 404
    expect(page.get_by_role("alert")).to_have_text("找不到该页面：它不存在，或您无权查看。")
    assert "合法合规性审查" not in page.content() and "DT-2015-04" not in page.content()
    missing = page.goto(f"{live.url}/tasks/999999")
    missing_text = page.get_by_role("alert").inner_text()
    assert missing.status == 404 and missing_text == "找不到该页面：它不存在，或您无权查看。"
    assert page.goto(f"{live.url}/plans/{review['instance_id']}").status == 404
    assert page.goto(f"{live.url}/plans/999999").status == 404
    # claiming through a crafted form: refused the same way, nothing changed
    token = page.goto(f"{live.url}/tasks/{consultation['id']}") and page.locator("input[name=csrf_token]").first.get_attribute("value")
    crafted = page.request.post(f"{live.url}/tasks/{review['id']}/claim", form={"csrf_token": token})
    assert crafted.status == 404 and engine.task_view(review["id"])["status"] == "open"
    # their own plan and task they see
    assert page.goto(f"{live.url}/tasks/{consultation['id']}").status == 200
    assert page.goto(f"{live.url}/plans/{consultation['instance_id']}").status == 200
    # the reform office sees everything
    sign_in(page, live, "chen")
    assert page.goto(f"{live.url}/tasks/{review['id']}").status == 200
    assert page.goto(f"{live.url}/plans/{consultation['instance_id']}").status == 200


class _Person:
    def __init__(self, username, groups, unit):
        self.username, self.group_codes, self.unit = username, groups, unit

    @property
    def office(self):
        return "reform_office" in self.group_codes


@pytest.fixture
def demo(engine):
    """The demo on a fresh database of each kind, SQLite and PostgreSQL."""
    from engine.demo import load_demo
    load_demo(engine)
    return engine


def test_who_may_see_a_task_and_its_plan_and_how_many_tasks_each_scope_holds(demo):
    """On SQLite and PostgreSQL (the demo loaded once for both checks: it takes seconds)."""
    from engine.queries import count_tasks, list_tasks
    engine = demo
    for who in ("chen", "song", "li", "zhang", "wu"):
        with engine.db.reader() as s:
            assert count_tasks(s, who) == {scope: len(list_tasks(s, who, scope)) for scope in ("mine", "claimable", "all")}
    archive = open_task(engine, "DT-2015-07", "Task_HandOverArchive")  # kept to 市国资委's drafters, song's
    plan = archive["instance_id"]
    zhang = _Person("zhang", ["drafter"], "市财政局")
    xie = _Person("xie", ["drafter"], "市经信委")
    colleague = _Person("song2", ["drafter"], "市国资委")
    li = _Person("li", ["legal"], "市司法局")
    office = _Person("chen", ["reform_office"], "市委改革办")
    assert may_see_task_id(engine, office, archive["id"]) and may_see_plan(engine, office, plan)
    # a drafter of the lead unit: a candidate of the step, and the plan is their unit's
    assert may_see_task_id(engine, colleague, archive["id"]) and may_see_plan(engine, colleague, plan)
    assert not may_see_task_id(engine, zhang, archive["id"]) and not may_see_plan(engine, zhang, plan)
    # the office gives it to zhang (another unit's drafter), then takes it back: he held it, he still sees it
    engine.unclaim(archive["id"], actor="chen")
    engine.assign(archive["id"], to="zhang", actor="chen")
    engine.unclaim(archive["id"], actor="chen")
    assert may_see_task_id(engine, zhang, archive["id"]) and may_see_plan(engine, zhang, plan)
    assert not may_see_task_id(engine, xie, archive["id"]) and not may_see_plan(engine, xie, plan)
    # the legal reviewer reviewed DT-2015-07 earlier: its plan, not this drafting step
    assert may_see_plan(engine, li, plan) and not may_see_task_id(engine, li, archive["id"])
    # the plan's starter sees it; nobody sees a plan or task that does not exist
    assert may_see_plan(engine, _Person("song", [], None), plan)
    assert not may_see_plan(engine, office, 999999) and not may_see_task_id(engine, office, 999999)


# ---------------------------------------------------------------- the inbox
def test_the_inbox_counts_each_scope_filters_overdue_and_says_reminded(live, page):
    engine = _engine(live)
    filing = open_task(engine, "DT-2015-07", "Task_FileDocument")  # overdue; opened late, so never reminded
    # the year-end round's reminder to song, fired when it falls due
    rounds = next(p for p in engine.ledger(process="work_report") if p["business_key"].endswith("-NB"))
    with clock.frozen(datetime.fromisoformat(engine.instance(rounds["id"])["next_timer_at"]) + timedelta(hours=1)):
        engine.fire_due_timers()
    report = open_task(engine, rounds["business_key"], "Task_SubmitReport")
    sign_in(page, live, "song")
    from engine.queries import list_tasks
    with engine.db.reader() as s:
        mine = list_tasks(s, "song", "mine")
    nav = page.locator("header nav")
    expect(nav.locator("[data-scope='mine'] .count")).to_have_text(str(len(mine)))
    expect(nav.locator("[data-scope='claimable'] .count")).to_have_text("0")
    expect(nav.locator("[data-scope='all'] .count")).to_have_text(str(len(mine)))
    page.get_by_role("link", name=re.compile("^只看已逾期")).click()
    rows = page.locator("table.inbox tbody tr")
    now = clock.now()
    overdue = [t for t in mine if t["due_at"] and datetime.fromisoformat(t["due_at"]) <= now]
    assert filing["id"] in [t["id"] for t in overdue]
    expect(rows).to_have_count(len(overdue))
    expect(page.locator(f"tr[data-task='{filing['id']}']")).to_contain_text("已逾期")
    expect(page.locator(f"tr[data-task='{filing['id']}']")).not_to_contain_text("已提醒")
    page.get_by_role("link", name="显示全部").click()
    expect(rows).to_have_count(len(mine))
    expect(page.locator(f"tr[data-task='{report['id']}']")).to_contain_text("已提醒")
    page.get_by_role("link", name="最新生成在前").click()
    # rows.all() does not wait: read the rows only once the sorted page has loaded
    page.wait_for_url(re.compile(r"sort=new"))
    expect(rows).to_have_count(len(mine))
    shown = [int(r.get_attribute("data-task")) for r in rows.all()]
    assert shown == [t["id"] for t in sorted(mine, key=lambda t: (t["created_at"], t["id"]), reverse=True)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_page_reveals_nothing_in_either_language(live, page, lang):
    sign_in(page, live, "zhang")
    if lang == "en":
        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("button", name="中文")).to_be_visible()  # the language changed: click does not wait for that
    answer = page.goto(f"{live.url}/plans/4")
    assert answer.status == 404
    expect(page.get_by_role("alert")).to_have_text(
        "找不到该页面：它不存在，或您无权查看。" if lang == "zh"
        else "Not found: this page does not exist, or you may not see it.")


def test_the_consultation_period_says_the_30_day_rule_by_its_field(live, page):
    """The form allows 1 day and up (a shorter period with a reason is lawful); the rule itself,
    30 days unless a reason is given, must be read before submitting, not learnt from a return."""
    consultation = open_task(_engine(live), "DT-2015-02", "Task_PublicConsultation")
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{consultation['id']}")
    field = page.locator("[data-field='consultationDays']")
    expect(field).to_contain_text("一般不少于30日，最长365日；少于30日的须在下栏填写理由")


def test_a_step_with_a_follow_up_date_shows_it_as_such_not_as_a_deadline(demo_engine):
    """申请复核 is a right, not a duty: the diagram gives it a follow-up date (the request window
    ends then), no deadline. The lead unit sees that date on the step and in its inbox."""
    step = open_task(demo_engine, "DT-2015-09-LS", "Task_RequestReReview")
    assert step["due_at"] is None and step["follow_up_at"]
    day = display.deadline(step["follow_up_at"], True)
    song = signed_in_client(demo_engine, step["assignee"])
    page = song.get(f"/tasks/{step['id']}").get_data(as_text=True)
    assert re.search(rf"<dt>跟进日期</dt><dd>{day} <span class=\"hint\">[^<]*不是办理期限", page)
    assert "<dt>期限</dt>" not in page
    assert f"跟进 {day}" in song.get("/tasks").get_data(as_text=True)


# ---------------------------------------------------------------- a tick box nobody has ticked yet
def _values_shown(client, task_id: int) -> dict[str, str]:
    """Each value of a task's form as its page shows it to someone who does not hold it."""
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    return {fid: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown)).strip()
            for fid, shown in re.findall(r'<dd data-field="(\w+)">(.*?)</dd>', page, re.S)}


def test_a_box_nobody_has_ticked_or_left_yet_shows_a_dash_not_no(demo_engine):
    """A step not yet submitted has given its boxes nothing: the form's defaultValue="false" is what
    the box starts from, not an answer, and 否 would say the person answered no. A box the plan was
    given false shows 否."""
    chen = signed_in_client(demo_engine, "chen")
    confirm = open_task(demo_engine, "DT-2015-01", "Task_RegisterPlan")  # wang holds it, has submitted nothing
    shown = _values_shown(chen, confirm["id"])
    assert shown["pilot"] == shown["exploratory"] == shown["touchesPublicInterest"] == "—"
    assert shown["leadUnit"] == "市政府办公厅"  # given at the start: shown as given
    supervise = open_task(demo_engine, "DT-2015-08-LS", "Task_Supervise")  # nobody has claimed it
    assert _values_shown(chen, supervise["id"])["problemsFound"] == "—"
    filing = open_task(demo_engine, "DT-2015-07", "Task_FileDocument")  # 试点方案 was answered no
    assert _values_shown(chen, filing["id"])["pilot"] == "否"
    english = signed_in_client(demo_engine, "chen", language="en")
    assert _values_shown(english, supervise["id"])["problemsFound"] == "—"
    assert _values_shown(english, filing["id"])["pilot"] == "no"


# ---------------------------------------------------------------- dates in one style on a page
def test_the_task_and_plan_pages_write_their_dates_in_one_style(demo_engine):
    """A Chinese page writes a date 2026年12月6日 (期限, 生成时间): a field's range and the plan's
    时间节点 too, not 2026-12-06 beside it; the date box itself keeps ISO. English pages write ISO."""
    today = clock.today()
    filing = open_task(demo_engine, "DT-2015-07", "Task_FileDocument")
    song = signed_in_client(demo_engine, "song")
    page = song.get(f"/tasks/{filing['id']}").get_data(as_text=True)
    hint = re.search(r'id="f-filingDate-hint">(.*?)</p>', page, re.S).group(1)
    assert hint == f"{display.day(filing['bounds']['filingDate']['min'], True)}（印发日期） 至 {display.day(today, True)}（今天）"
    assert f'max="{today.isoformat()}"' in page  # the date box: ISO
    english = signed_in_client(demo_engine, "song", language="en").get(f"/tasks/{filing['id']}").get_data(as_text=True)
    assert re.search(rf'id="f-filingDate-hint">\d{{4}}-\d\d-\d\d \(印发日期\) to {today.isoformat()} \(today\)</p>', english)

    chen = signed_in_client(demo_engine, "chen")
    plan = page_text(chen.get(f"/plans/{plan_id(demo_engine, 'DT-2015-07')}"))
    assert re.search(r"时间节点 方案出台 · 计划 \d{4}年\d{1,2}月\d{1,2}日 · 已于 \d{4}年\d{1,2}月\d{1,2}日 完成", plan)
    plan_en = page_text(signed_in_client(demo_engine, "chen", language="en").get(f"/plans/{plan_id(demo_engine, 'DT-2015-07')}"))
    assert re.search(r"Milestone 方案出台 · planned \d{4}-\d\d-\d\d · reached on \d{4}-\d\d-\d\d", plan_en)
