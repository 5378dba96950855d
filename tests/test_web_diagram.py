"""The 流程图 pages: a plan's (/plans/<id>/diagram) to whoever may see the plan, a deployed
version's (/definitions/<key>/v<n>/diagram) from the list of definitions; the steps listed in
words beside the picture; and in a real browser, on SQLite and PostgreSQL, the step the plan
is at highlighted by the style sheet (no inline style: the CSP)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine import modeler
from engine.commands import Engine
from engine.demo import load_demo
from models.db import Database

from .conftest import FIXTURES
from .web_helper import LiveServer, open_task, sign_in, signed_in_client

ACTIVE_STROKE = "rgb(179, 89, 0)"  # .bpmn-element.active .outline in web/static/style.css


def _rows(html: str, section: str) -> dict[str, str]:
    """element id -> the state said in the steps table of the diagram of process `section`."""
    part = html.split(f'data-process="{section}"', 1)[1].split("</section>", 1)[0]
    return {m.group(1): re.sub(r"\s+", "", m.group(2)) for m in re.finditer(
        r'<tr data-element-id="([^"]+)"[^>]*>.*?<td data-label="状态" class="state">(.*?)</td>', part, re.S)}


def test_the_diagram_is_refused_to_whoever_may_not_see_the_plan(demo_engine):
    consultation = open_task(demo_engine, "DT-2015-02", "Task_PublicConsultation")
    plan_id = consultation["instance_id"]
    li = signed_in_client(demo_engine, "li")  # legal affairs: nothing to do with DT-2015-02 yet
    page, diagram = li.get(f"/plans/{plan_id}"), li.get(f"/plans/{plan_id}/diagram")
    assert diagram.status_code == page.status_code == 404
    assert "DT-2015-02" not in diagram.get_data(as_text=True)
    assert "Task_PublicConsultation" not in diagram.get_data(as_text=True)
    zhang = signed_in_client(demo_engine, "zhang")  # its drafter
    assert zhang.get(f"/plans/{plan_id}/diagram").status_code == zhang.get(f"/plans/{plan_id}").status_code == 200


def test_the_plan_page_links_its_diagram_which_lists_each_step_in_its_state(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    chen = signed_in_client(demo_engine, "chen")
    assert f'href="/plans/{review["instance_id"]}/diagram"' in chen.get(f"/plans/{review['instance_id']}").get_data(
        as_text=True)
    html = chen.get(f"/plans/{review['instance_id']}/diagram").get_data(as_text=True)
    assert html.index('data-process="reform_plan"') < html.index('data-process="legality_review"')
    assert "<h2 id=\"diagram-1\">改革方案全流程 <small>reform_plan 第 1 版</small></h2>" in html
    main, legal = _rows(html, "reform_plan"), _rows(html, "legality_review")
    assert main["Task_RegisterPlan"] == "已办"
    assert main["CallActivity_LegalityReview"] == "正在办理"
    assert main["CallActivity_Deliberation"] == "未到达"
    assert legal["Task_LegalityReview"] == "正在办理"
    assert legal["Task_CheckMaterials"] == "已办"
    assert 'role="img"' in html and 'aria-label="改革方案全流程 v1 的流程图"' in html
    # the path it took drawn, and said in the legend
    assert '<g class="bpmn-flow sequenceFlow taken" data-element-id="Flow_ToCheckMaterials">' in html
    assert '<g class="bpmn-flow sequenceFlow" data-element-id="Flow_MaterialsIncomplete">' in html
    assert '<span class="swatch taken" aria-hidden="true"></span>走过的连线' in html
    assert html.count("<svg") == 2 and "style=" not in html.split("<main", 1)[1]  # the CSP: no inline style


def test_a_version_s_diagram_from_the_definitions_list_has_no_states(demo_engine):
    client = signed_in_client(demo_engine, "zhang")
    listed = client.get("/definitions").get_data(as_text=True)
    assert 'href="/definitions/filing/v1/diagram"' in listed
    html = client.get("/definitions/filing/v1/diagram").get_data(as_text=True)
    assert "备案" in html and 'data-element-id="Task_FileDocument"' in html
    assert "<th>状态</th>" not in html and 'class="bpmn-element' in html
    assert " completed" not in html and " active" not in html
    assert client.get("/definitions/filing/v99/diagram").status_code == 404


def test_a_version_without_di_says_so_on_its_page(demo_engine, monkeypatch):
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "no Node.js"))  # no lint to refuse it
    xml = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "",
                 (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8"), flags=re.S)
    [deployed] = demo_engine.deploy([("no_picture.bpmn", xml.encode())], actor="chen")
    client = signed_in_client(demo_engine, "chen")
    answer = client.get(f"/definitions/mini_approval/v{deployed['version']}/diagram")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "此流程图没有图形信息" in html and "<svg" not in html
    assert 'data-element-id="Task_Draft"' in html  # the steps are listed still


# ------------------------------------------------------------------ in a browser, SQLite and PostgreSQL
@pytest.fixture(scope="module")
def pg_demo(postgres_url, postgres_tables):
    """The demo on PostgreSQL (a few seconds to load: once for the module), served in this process."""
    postgres_tables.reset()
    db = Database(postgres_url)
    server = LiveServer(Engine(db))
    load_demo(server.app.extensions["reformflow"])
    yield server
    server.stop()
    db.dispose()


@pytest.mark.parametrize("server", ["live", pytest.param("pg_demo", marks=pytest.mark.postgres)])
def test_the_step_the_plan_is_at_is_highlighted_in_its_diagram(request, server, page):
    live = request.getfixturevalue(server)
    sign_in(page, live, "chen")
    review = open_task(live.app.extensions["reformflow"], "DT-2015-04", "Task_LegalityReview")
    page.goto(f"{live.url}/plans/{review['instance_id']}")
    page.get_by_role("link", name="流程图：方案办到了哪里").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("流程图")
    expect(page.get_by_role("img", name="合法合规性审查 v1")).to_be_visible()
    legal = page.locator("section[data-process=legality_review]")
    step = legal.locator("svg g[data-element-id=Task_LegalityReview]")
    expect(step).to_have_class(re.compile(r"\bactive\b"))
    outline = step.locator(".outline")
    # to_have_css waits: the page's elements show before its style sheet applies (CI once read the plain stroke)
    expect(outline).to_have_css("stroke", ACTIVE_STROKE)
    expect(outline).to_have_css("stroke-width", "4px")
    done = legal.locator("svg g[data-element-id=Task_CheckMaterials] .outline")
    assert done.evaluate("e => getComputedStyle(e).stroke") != ACTIVE_STROKE
    unreached = page.locator("section[data-process=reform_plan] svg g[data-element-id=CallActivity_Filing] .outline")
    assert unreached.evaluate("e => getComputedStyle(e).stroke") == "rgb(34, 34, 34)"  # drawn plain
    expect(legal.locator("tr[data-element-id=Task_LegalityReview]")).to_contain_text("正在办理")


_SCALE = """e => e.getBoundingClientRect().width / e.width.baseVal.value"""  # drawn px per Modeler unit


@pytest.mark.parametrize("width", [1920, 1280, 390])
def test_a_called_process_is_drawn_at_the_scale_of_the_plan_s_own_diagram(live, page, width):
    """A small called process (risk assessment: a quarter of the plan's diagram's width) was
    stretched to the page's width, its steps three to four times as large as the plan's."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live, "chen")
    plan_id = open_task(live.app.extensions["reformflow"], "DT-2015-03", "Task_PrepareRiskReport")["instance_id"]
    page.goto(f"{live.url}/plans/{plan_id}/diagram")
    main = page.locator("section[data-process=reform_plan] svg g[data-element-id=Task_RegisterPlan] .outline")
    risk = page.locator("section[data-process=risk_assessment] svg g[data-element-id=Task_PrepareRiskReport] .outline")
    assert main.evaluate(_SCALE) <= 1
    assert risk.evaluate(_SCALE) == pytest.approx(main.evaluate(_SCALE), rel=0.01)


def test_a_small_version_s_diagram_is_drawn_no_larger_than_the_modeler_draws_it(live, page):
    page.set_viewport_size({"width": 1920, "height": 900})
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/definitions/risk_assessment/v1/diagram")
    step = page.locator("svg g[data-element-id=Task_PrepareRiskReport] .outline")
    assert step.evaluate(_SCALE) == pytest.approx(1, rel=0.01)  # 1:1: the page is wider than the diagram
