"""The process library in a real browser: everyone signed in sees the deployed definitions; the
reform office checks uploaded .bpmn files (every problem listed: file, element, rule, message,
in the page's language) and deploys them all or nothing — a new version said as such, the same
content a no-op, a hostile file refused naming file and element. Others are refused, by the
server and not only by a hidden button."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from engine.queries import definitions

from .conftest import BPMN
from .test_checks import diagram, flows
from .web_helper import sign_in

FILING = (BPMN / "filing.bpmn").read_bytes()
HOSTILE_CONDITION = diagram('<bpmn:startEvent id="StartEvent_1" />\n'
                            '<bpmn:exclusiveGateway id="Gateway_1" name="审查" default="Flow_3" />\n'
                            '<bpmn:endEvent id="Event_A" />\n<bpmn:endEvent id="Event_B" />\n'
                            + flows(("StartEvent_1", "Gateway_1"),
                                    ("Gateway_1", "Event_A", "${__import__('os').system('id')}"),
                                    ("Gateway_1", "Event_B")), key="hostile")
DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<x>&b;</x>'


def _file(name: str, content: bytes) -> dict:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": content}


def _versions(engine, key: str) -> list[tuple[int, str]]:
    with engine.db.reader() as s:
        return [(d["version"], d["deployed_by"]) for d in definitions(s, all_versions=True) if d["key"] == key]


def _changed(xml: bytes) -> bytes:
    """The filing process with its name edited: new content, so a new version."""
    return xml.replace(b'<bpmn:process id="filing" name="', b'<bpmn:process id="filing" name="\xe6\x96\xb0', 1)


def test_everyone_sees_the_definitions_and_every_version_on_request(live, page):
    engine = live.app.extensions["reformflow"]
    engine.deploy([("filing.bpmn", _changed(FILING))], actor="chen")
    sign_in(page, live, "li")
    page.get_by_role("link", name="流程定义").click()
    row = page.locator("tr[data-definition='filing']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("v2")
    expect(row).to_contain_text("chen")
    expect(row).to_contain_text("filing.bpmn")
    expect(page.locator("tr[data-definition='reform_plan']")).to_have_count(1)
    expect(page.get_by_role("link", name="检查和部署")).to_have_count(0)  # not the office's: not offered

    page.get_by_role("link", name="列出全部版本").click()
    expect(page.locator("tr[data-definition='filing']")).to_have_count(2)
    expect(page.locator("tr[data-definition='filing'][data-version='1']")).to_contain_text("v1")


def test_the_office_checks_then_deploys_a_new_version_and_the_same_content_again_is_a_no_op(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions")
    page.get_by_role("link", name="检查和部署").click()

    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _changed(FILING))])
    page.get_by_role("button", name="检查").click()
    expect(page.locator("p.summary")).to_contain_text("0 个错误")
    assert _versions(engine, "filing") == [(1, "chen")]  # checking deploys nothing

    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _changed(FILING))])
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("filing 已部署为第 2 版；进行中的方案仍按原版本办理。")
    assert _versions(engine, "filing") == [(2, "chen"), (1, "chen")]

    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _changed(FILING))])
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("filing 与已部署的第 2 版内容相同，未改动。")
    expect(page.locator("ul.deployed")).to_contain_text("内容未变，未新增版本")
    assert _versions(engine, "filing") == [(2, "chen"), (1, "chen")]


def test_what_a_new_version_changes_is_shown_before_and_after_deploying_it(live, page):
    renamed = FILING.replace('name="报送备案" camunda:assignee'.encode(), 'name="报送备案材料" camunda:assignee'.encode(), 1)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions/deploy")
    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", renamed)])
    page.get_by_role("button", name="检查").click()
    section = page.locator("section.process-changes[data-process='filing']")
    expect(section.get_by_role("heading")).to_contain_text("第 1 版 → filing.bpmn")
    expect(section.get_by_role("heading")).to_contain_text("1 处变化")
    row = section.locator("tr[data-element='Task_FileDocument']")
    expect(row).to_have_attribute("data-change", "changed")
    expect(row).to_contain_text("用户任务 报送备案材料")
    expect(row.locator("del")).to_have_text("报送备案")
    expect(row.locator("ins")).to_have_text("报送备案材料")

    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", renamed)])
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("filing 已部署为第 2 版")
    expect(page.locator("section.process-changes[data-process='filing'] tr[data-element='Task_FileDocument']")).to_be_visible()

    sign_in(page, live, "li")  # anyone may read what a version changed
    page.goto(f"{live.url}/definitions?all=1")
    first = page.locator("tr[data-definition='filing'][data-version='1']")
    expect(first.get_by_role("link", name="与上一版比较")).to_have_count(0)  # nothing before version 1
    expect(first.get_by_role("link", name="备案 v1 的流程图")).to_have_attribute("href", "/definitions/filing/v1/diagram")
    page.locator("tr[data-definition='filing'][data-version='2']").get_by_role("link", name="与上一版比较").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("第 2 版与第 1 版比较")
    expect(page.locator("tr[data-element='Task_FileDocument'] ins")).to_have_text("报送备案材料")
    page.get_by_role("button", name="English").click()
    expect(page.locator("tr[data-element='Task_FileDocument']")).to_contain_text("changed")
    expect(page.locator("tr[data-element='Task_FileDocument'] dt")).to_have_text("name")
    assert page.request.get(f"{live.url}/definitions/filing/v1/changes").status == 404  # nothing before version 1
    assert page.request.get(f"{live.url}/definitions/filing/v9/changes").status == 404


def test_hostile_files_are_refused_naming_the_file_and_the_element(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions/deploy")
    files = [_file("hostile.bpmn", HOSTILE_CONDITION), _file("laughs.bpmn", DOCTYPE),
             _file("filing.bpmn", _changed(FILING))]
    page.get_by_label("BPMN 文件").set_input_files(files)
    page.get_by_role("button", name="检查").click()
    code = page.locator("table.problems tr[data-file='hostile.bpmn'][data-element='Flow_2'][data-rule='expression']")
    expect(code).to_contain_text("`${__import__('os').system('id')}`")
    expect(code).to_contain_text("错误")
    doctype = page.locator("table.problems tr[data-file='laughs.bpmn']")
    expect(doctype).to_contain_text("不允许 DOCTYPE 声明")

    page.get_by_label("BPMN 文件").set_input_files(files)
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("部署被拒绝")
    expect(page.locator("table.problems tr[data-file='hostile.bpmn'][data-element='Flow_2'][data-rule='expression']")
           ).to_have_count(1)
    expect(page.locator("table.problems tr[data-file='laughs.bpmn']")).to_have_count(1)
    # all or nothing: the good file in the same upload is not deployed either
    assert _versions(engine, "hostile") == [] and _versions(engine, "filing") == [(1, "chen")]

    page.get_by_role("button", name="English").click()  # the same problems, in English
    page.get_by_label("BPMN files").set_input_files(files)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("table.problems tr[data-file='hostile.bpmn'][data-rule='expression']")).to_contain_text(
        "only calls of named functions")
    expect(page.locator("table.problems tr[data-file='laughs.bpmn']")).to_contain_text(
        "a DOCTYPE declaration is not allowed")


def test_uploads_are_limited_in_size_and_kind(live, page):
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions/deploy")
    huge = FILING.replace(b"</bpmn:definitions>", b"<!--" + b" " * (5 * 1024 * 1024) + b"--></bpmn:definitions>")
    page.get_by_label("BPMN 文件").set_input_files([_file("huge.bpmn", huge)])
    page.get_by_role("button", name="检查").click()
    expect(page.locator("table.problems tr[data-file='huge.bpmn']")).to_contain_text("文件超过 5 MB")

    page.get_by_label("BPMN 文件").set_input_files([_file("notes.html", b"<script>alert(1)</script>")])
    page.get_by_role("button", name="检查").click()
    expect(page.get_by_role("alert")).to_contain_text("notes.html：只接受 Camunda Modeler 保存的 .bpmn 文件")


def test_only_the_reform_office_may_deploy(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "li")
    assert page.goto(f"{live.url}/definitions/deploy").status == 403
    # a forged POST with a valid CSRF token: refused by the server, not only by the missing button
    page.goto(f"{live.url}/definitions")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value")
    response = page.request.post(f"{live.url}/definitions/deploy", multipart={
        "csrf_token": token, "action": "deploy",
        "files": {"name": "filing.bpmn", "mimeType": "application/octet-stream", "buffer": _changed(FILING)}})
    assert response.status == 403
    assert _versions(engine, "filing") == [(1, "chen")]


def test_the_nav_offers_the_audit_page_only_to_who_may_use_it(live, page):
    sign_in(page, live, "li")
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="流程定义")).to_have_count(1)
    expect(nav.get_by_role("link", name="审计")).to_have_count(0)
    page.get_by_role("button", name="退出").click()
    sign_in(page, live, "chen")
    expect(page.locator("header nav").get_by_role("link", name=re.compile("^审计$"))).to_have_count(1)


def _moved(xml: bytes) -> bytes:
    """The filing process with one shape moved 20 px: layout only, plans run as before."""
    moved = re.sub(rb'<dc:Bounds x="(\d+)"', lambda m: b'<dc:Bounds x="%d"' % (int(m.group(1)) + 20), xml, count=1)
    assert moved != xml
    return moved


def test_a_layout_only_file_is_deployed_only_once_that_is_confirmed(live, page):
    """检查 said 只改了图形布局, and 部署 then made version 2 without a word."""
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions/deploy")
    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _moved(FILING))])
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("filing 只改了图形布局或注释，办理方式没有变化，部署会新增一个版本。均未部署")
    stray = page.locator("fieldset.stray")
    expect(stray).to_contain_text("filing")
    expect(stray).to_contain_text("只改了图形布局")
    expect(page.locator("p.summary")).to_have_count(0)  # nothing was checked: no "no problems found"
    assert _versions(engine, "filing") == [(1, "chen")]

    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _moved(FILING))])
    page.get_by_label("仍部署为新版本").check()
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("filing 已部署为第 2 版")
    assert _versions(engine, "filing") == [(2, "chen"), (1, "chen")]
    # a real change is never asked about
    page.get_by_label("BPMN 文件").set_input_files([_file("filing.bpmn", _changed(FILING))])
    page.get_by_role("button", name="部署", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("filing 已部署为第 3 版")
