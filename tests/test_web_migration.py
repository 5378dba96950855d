"""迁移到新版本 in a real browser, over the demo: the reform office sees the offer on a plan's
page once its process has a newer version, reads the preview, gives a reason and moves the plan;
the trail shows the move. A step in the way is shown, with no button; anyone else gets a 403 page."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from models import HumanTask, ProcessInstance

from .conftest import BPMN
from .web_helper import sign_in, signed_in_client

# reform_plan with a new description (the process's documentation): a version to move to
REFORM_PLAN_V2 = (BPMN / "reform_plan.bpmn").read_text(encoding="utf-8").replace(
    "<bpmn:documentation>", "<bpmn:documentation>（第二版）", 1).encode()


def _plan_at_a_top_level_step(engine) -> tuple[int, str]:
    """A running demo plan of reform_plan whose open steps are all reform_plan's own (not inside
    a called process), and its business key."""
    with engine.db.reader() as s:
        rows = s.execute(select(ProcessInstance.id, ProcessInstance.business_key, HumanTask.process_key)
                         .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                         .where(ProcessInstance.status == "running", HumanTask.status.in_(("open", "claimed")))).all()
    keys = {}
    for plan_id, business_key, process_key in rows:
        keys.setdefault((plan_id, business_key), set()).add(process_key)
    return next((p, k) for (p, k), found in sorted(keys.items()) if found == {"reform_plan"}
                and engine.instance(p)["definition_key"] == "reform_plan")


def test_the_office_moves_a_plan_to_the_new_version_with_a_reason(live, page):
    engine = live.app.extensions["reformflow"]
    plan_id, key = _plan_at_a_top_level_step(engine)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/plans/{plan_id}")
    expect(page.get_by_role("link", name="迁移到新版本")).to_have_count(0)  # no newer version yet

    engine.deploy([("reform_plan.bpmn", REFORM_PLAN_V2)])
    page.goto(f"{live.url}/plans/{plan_id}")
    expect(page.locator(".migrate-offer")).to_contain_text("流程已有第 2 版；方案仍按第 1 版办理。")
    page.get_by_role("link", name="迁移到新版本").click()
    expect(page.locator("h1")).to_have_text("迁移到新版本")
    expect(page.locator("main, body").first).to_contain_text("第 1 版 → 第 2 版")
    expect(page.locator(".migration-steps li").first).to_contain_text("保留")
    page.get_by_role("button", name="确认迁移").click()  # no reason: asked for, nothing moved
    expect(page.locator(".flash.error")).to_contain_text("须写明迁移理由")
    assert engine.instance(plan_id)["definition_version"] == 1

    page.get_by_label("迁移理由").fill("办理说明更新")
    page.get_by_role("button", name="确认迁移").click()
    page.wait_for_url(f"{live.url}/plans/{plan_id}")
    expect(page.locator(".flash.ok")).to_contain_text("已将方案")
    expect(page.locator(".facts")).to_contain_text("第 2 版")
    expect(page.locator("ol.trail")).to_contain_text("迁移到新版本 reform_plan v1 → v2：办理说明更新")
    expect(page.get_by_role("link", name="迁移到新版本")).to_have_count(0)


def test_a_step_in_the_way_is_shown_and_others_are_refused(demo_engine):
    plan_id, _ = _plan_at_a_top_level_step(demo_engine)
    step = demo_engine.instance(plan_id)["tasks"][0]["element_id"]
    renamed = re.sub(rf"\b{step}\b", "Activity_0new001", (BPMN / "reform_plan.bpmn").read_text(encoding="utf-8"))
    demo_engine.deploy([("reform_plan.bpmn", renamed.encode())])
    office = signed_in_client(demo_engine, "chen")
    shown = office.get(f"/plans/{plan_id}/migrate").get_data(as_text=True)
    assert "不能迁移" in shown and step in shown and "确认迁移" not in shown
    refused = office.post(f"/plans/{plan_id}/migrate", data={"reason": "试"})
    assert refused.status_code == 400 and demo_engine.instance(plan_id)["definition_version"] == 1
    drafter = signed_in_client(demo_engine, "zhang")
    assert drafter.get(f"/plans/{plan_id}/migrate").status_code == 403
    assert drafter.post(f"/plans/{plan_id}/migrate", data={"reason": "想迁"}).status_code in (403, 404)
    assert demo_engine.instance(plan_id)["definition_version"] == 1


def test_a_plan_inside_a_fixed_called_process_is_offered_the_move_of_it_alone(demo_engine):
    """An analyst fixes legality_review: a demo plan inside it is offered 迁移到新版本; the page
    says reform_plan stays on its version and lists the called process's step; the move keeps it."""
    from .test_modeler_corpus import analyst_copy_of_legality_review
    with demo_engine.db.reader() as s:
        # at Task_LegalityReview, inside legality_review's embedded SubProcess_Review
        plan_id = s.execute(select(HumanTask.instance_id).where(
            HumanTask.element_id == "Task_LegalityReview", HumanTask.status.in_(("open", "claimed")))
            .order_by(HumanTask.instance_id)).scalars().first()
    assert plan_id is not None
    office = signed_in_client(demo_engine, "chen")
    assert "migrate-offer" not in office.get(f"/plans/{plan_id}").get_data(as_text=True)
    demo_engine.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    page = office.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "方案正在办理的调用流程 legality_review 已有第 2 版；方案仍按第 1 版办理。" in page

    shown = office.get(f"/plans/{plan_id}/migrate").get_data(as_text=True)
    assert "只迁移方案正在办理的调用流程" in shown and 'data-called="legality_review"' in shown
    assert "确认迁移" in shown
    version = re.search(r'name="expected_version" value="(\d+)"', shown)[1]
    to_version = re.search(r'name="to_version" value="(\d+)"', shown)[1]
    done = office.post(f"/plans/{plan_id}/migrate", data={"reason": "审查意见字数要求", "expected_version": version,
                                                          "to_version": to_version, "csrf_token": _csrf(shown)})
    assert done.status_code == 302, done.get_data(as_text=True)
    view = demo_engine.instance(plan_id)
    assert (view["definition_version"], view["called_versions"]["legality_review"]) == (1, 2)
    assert "migrate-offer" not in office.get(f"/plans/{plan_id}").get_data(as_text=True)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found[1] if found else ""


def test_the_office_moves_every_plan_still_on_an_old_version_with_one_reason(demo_engine):
    """流程定义 says how many plans still run an older version; its page previews them all; one
    reason moves each that may, each on its own: a plan changed since the page was shown is a
    conflict, and the others still move."""
    from .test_modeler_corpus import analyst_copy_of_legality_review
    demo_engine.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    # version 2 gives the public consultation a new id: the demo plan waiting in it may not move
    demo_engine.deploy([("reform_plan.bpmn", REFORM_PLAN_V2.replace(b"Task_PublicConsultation", b"Task_Consultation"))])
    office = signed_in_client(demo_engine, "chen")
    listed = office.get("/definitions").get_data(as_text=True)
    found = demo_engine.migration_candidates("reform_plan")
    assert f"{len(found['plans'])} 个方案仍按旧版本办理" in listed and "/definitions/reform_plan/migrate" in listed
    assert signed_in_client(demo_engine, "zhang").get("/definitions/reform_plan/migrate").status_code == 403

    page = office.get("/definitions/reform_plan/migrate").get_data(as_text=True)
    allowed = [p for p in found["plans"] if p["preview"]["allowed"]]
    refused = [p for p in found["plans"] if not p["preview"]["allowed"]]
    assert len(allowed) >= 2 and refused  # DT-2015-02, in the public consultation
    assert page.count('data-allowed="no"') == len(refused) and "Task_PublicConsultation「发布公开征求意见」" in page
    fields = re.findall(r'name="plan" value="([\d:]+)"', page)
    assert len(fields) == len(allowed)
    stale = fields[0].split(":")
    fields[0] = f"{stale[0]}:{int(stale[1]) - 1}:{stale[2]}"  # as if someone acted on it since
    done = office.post("/definitions/reform_plan/migrate", data={"reason": "办理说明更新", "plan": fields,
                                                                 "csrf_token": _csrf(page)})
    shown = done.get_data(as_text=True)
    assert done.status_code == 200 and f'data-plan="{stale[0]}"' in shown and 'data-outcome="conflict"' in shown
    assert shown.count('data-outcome="moved"') == len(allowed) - 1
    versions = {p["instance_id"]: demo_engine.instance(p["instance_id"])["definition_version"] for p in found["plans"]}
    assert versions[int(stale[0])] == 1 and [versions[p["instance_id"]] for p in allowed[1:]] == [2] * (len(allowed) - 1)
    assert all(versions[p["instance_id"]] == 1 for p in refused)


def test_a_called_process_deployed_after_the_page_was_shown_is_not_moved_to_unseen(demo_engine):
    """The page previewed the move of legality_review to version 2; version 3, deployed before
    确认迁移, would have been moved to unseen: the move is refused as a conflict, the plan unchanged."""
    import html

    from .test_modeler_corpus import analyst_copy_of_legality_review
    with demo_engine.db.reader() as s:
        plan_id = s.execute(select(HumanTask.instance_id).where(
            HumanTask.element_id == "Task_LegalityReview", HumanTask.status.in_(("open", "claimed")))
            .order_by(HumanTask.instance_id)).scalars().first()
    demo_engine.deploy([("legality_review.bpmn", analyst_copy_of_legality_review())])
    office = signed_in_client(demo_engine, "chen")
    shown = office.get(f"/plans/{plan_id}/migrate").get_data(as_text=True)
    fields = {name: html.unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', shown)}
    assert fields["called_versions"].count('"legality_review": 2') == 1
    demo_engine.deploy([("legality_review.bpmn", analyst_copy_of_legality_review().replace(
        "<bpmn:documentation>".encode(), "<bpmn:documentation>（第三版）".encode(), 1))])
    done = office.post(f"/plans/{plan_id}/migrate", data={**fields, "reason": "审查意见字数要求"})
    assert "在您预览之后又部署了被调用流程的新版本（现为 legality_review 第 3 版）" in html.unescape(done.get_data(as_text=True))
    assert demo_engine.instance(plan_id)["called_versions"]["legality_review"] == 1
