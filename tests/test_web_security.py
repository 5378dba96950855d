"""The web inbox as an attacker tries it: every route against someone who may not use it (with
crafted addresses and POSTs), every POST without its form token, no change on a GET; text from
people and diagrams shown as text, never run; the security headers on every page; sessions that
end when they should; sign-in that tells nothing about who exists and slows guessing down;
redirects that stay on this site."""
from __future__ import annotations

import re
import time
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine import clock
from engine.queries import list_tasks
from models import AuditHead, ProcessInstance, SignInFailure, User
from web import create_app, sign_in_throttle

from .web_helper import real_password_hashes, sign_in

FIXTURE = "tests/fixtures/diagrams/mini_approval.bpmn"
HOSTILE = '<img src=x onerror="document.title=1">'  # what a page would run if it were not escaped


def _app(engine, *, csrf: bool = True):
    app = create_app(engine=engine, secret_key="test-secret", testing=True)
    app.config["WTF_CSRF_ENABLED"] = csrf
    return app


def _token(client, path: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _sign_in(client, username: str, password: str = "demo"):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": _token(client)})


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _flash(response) -> str:
    found = re.search(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    return found.group(1) if found else ""


def _state(engine) -> tuple:
    """What any change would move: the audit chain's head, the plans, the users' sessions."""
    with engine.db.reader() as s:
        return (s.execute(select(AuditHead.last_seq)).scalar(), s.execute(select(func.count(ProcessInstance.id))).scalar(),
                tuple(s.execute(select(User.username, User.session_generation, User.active).order_by(User.id)).all()))


def _task(engine, business_key: str, element_id: str) -> dict:
    with engine.db.reader() as s:
        return next(t for t in list_tasks(s, "chen", "all")
                    if t["business_key"] == business_key and t["element_id"] == element_id)


# ---------------------------------------------------------------- authorization, route by route
def _foreign(engine) -> dict:
    """A plan of zhang's (DT-2015-02, its public consultation held by him, with a file) that li,
    the legal reviewer, has nothing to do with; and li's own plan and task for crossing ids."""
    held = _task(engine, "DT-2015-02", "Task_PublicConsultation")
    [document] = engine.task_view(held["id"])["documents"]
    mine = _task(engine, "DT-2015-04", "Task_LegalityReview")
    return {"plan": held["instance_id"], "task": held["id"], "document": document["id"], "version": held["version"],
            "my_plan": mine["instance_id"], "my_task": mine["id"]}


# endpoint -> (method, path, form, the statuses that refuse it): each crafted by li, who may
# not see plan `plan` nor task `task`, is no reform office member nor auditor.
def _attempts(f: dict) -> dict:
    p, t, d = f["plan"], f["task"], f["document"]
    seen = {"version": str(f["version"])}
    return {
        "inbox.task": ("GET", f"/tasks/{t}", {}, {404}),
        "inbox.claim": ("POST", f"/tasks/{t}/claim", seen, {404}),
        "inbox.unclaim": ("POST", f"/tasks/{t}/unclaim", seen, {404}),
        "inbox.complete": ("POST", f"/tasks/{t}/complete", seen, {404}),
        "inbox.attach": ("POST", f"/tasks/{t}/attach", seen, {404}),
        "inbox.save_draft": ("POST", f"/tasks/{t}/draft", {**seen, "consultationMethods": "x"}, {404}),
        "inbox.comment": ("POST", f"/tasks/{t}/comment", {"plan-comment": "请补充材料"}, {404}),
        "office.assign": ("POST", f"/tasks/{t}/assign", {**seen, "to": "li", "reassign": "1"}, {403, 404}),
        "office.urge": ("POST", f"/tasks/{t}/urge", {"note": "请抓紧"}, {403, 404}),
        "office.urge_picked": ("POST", "/tasks/urge", {"task": str(t), "note": "请抓紧"}, {403}),
        "plans.plan": ("GET", f"/plans/{p}", {}, {404}),
        "plans.diagram": ("GET", f"/plans/{p}/diagram", {}, {404}),
        "plans.trail": ("GET", f"/plans/{p}/trail", {}, {404}),
        "plans.document": ("GET", f"/plans/{p}/files/{d}", {}, {404}),
        "plans.comment": ("POST", f"/plans/{p}/comments", {"plan-comment": "请补充材料"}, {404}),
        "auditor.documents": ("GET", f"/plans/{p}/documents", {}, {404}),
        "auditor.archive": ("GET", f"/plans/{p}/archive.csv", {}, {404}),
        "auditor.archive_page": ("GET", f"/plans/{p}/archive", {}, {404}),
        "office.stop": ("POST", f"/plans/{p}/stop", {"reason": "x", "confirm": "1"}, {403, 404}),
        "office.migrate": ("POST", f"/plans/{p}/migrate", {"reason": "x", "expected_version": "1"}, {403, 404}),
        "office.migrate_many": ("POST", "/definitions/reform_plan/migrate", {"reason": "x", "plan": f"{p}:1:2"}, {403}),
        "office.ledger": ("GET", "/ledger", {}, {403}),
        "office.ledger_file": ("GET", "/ledger.csv", {}, {403}),
        "office.overview": ("GET", "/overview", {}, {403}),
        "reports.bulletin": ("GET", "/bulletin", {}, {403}),
        "reports.bulletin_file": ("GET", "/bulletin.xlsx", {}, {403}),
        "reports.supervision": ("GET", "/supervision", {}, {403}),
        "reports.supervision_file": ("GET", "/supervision.csv", {}, {403}),
        "reports.stats": ("GET", "/stats", {}, {403}),
        "reports.stats_file": ("GET", "/stats.csv", {}, {403}),
        "reports.calendar": ("GET", "/calendar/2027", {}, {403}),
        "reports.calendar_day": ("POST", "/calendar/2027/day",
                                 {"day": "2027-10-08", "action": "off", "note": "x", "seen": "{}"}, {403}),
        "reports.calendar_import": ("POST", "/calendar/2027/import", {"confirm": "1", "seen": "{}"}, {403}),
        "office.start": ("POST", "/plans/new?key=work_report", {"plan_title": "x"}, {403}),
        "auditor.audit": ("GET", "/audit", {}, {403}),
        "auditor.audit_verify": ("POST", "/audit/verify", {}, {403}),
        "auditor.audit_check": ("GET", "/audit/checks/1", {}, {403}),
        "auditor.audit_export": ("GET", "/audit/export.csv", {}, {403}),
        "auditor.planless_events": ("GET", "/audit/events", {}, {403}),
        "analyst.deploy": ("POST", "/definitions/deploy", {"action": "deploy"}, {403}),
        "people.people": ("GET", "/people", {}, {403}),
        "people_import.import_people": ("POST", "/people/import", {"action": "import", "previewed": "0" * 64}, {403}),
        "people_import.template": ("GET", "/people/import/template.xlsx", {}, {403}),
        "people.add": ("POST", "/people/new", {"username": "mole", "display_name": "x", "groups": "reform_office",
                                               "password": "mole-pass-1", "password_again": "mole-pass-1"}, {403}),
        "people.person": ("GET", "/people/zhang", {}, {403}),
        "people.update": ("POST", "/people/li/update", {"seen_display_name": "李娜", "seen_unit": "市司法局",
                                                        "seen_groups": "legal", "display_name": "李娜",
                                                        "unit": "市司法局", "groups": ["legal", "reform_office"]}, {403}),
        "people.reset_password": ("POST", "/people/zhang/password",
                                  {"new_password": "taken-over-1", "new_password_again": "taken-over-1"}, {403}),
        "people.deactivate": ("POST", "/people/zhang/deactivate", {}, {403}),
        "people.reactivate": ("POST", "/people/zhang/reactivate", {}, {403}),
        # li naming herself to act for zhang (委托办理): the office's, or zhang's own page
        "people.delegate_for": ("POST", "/people/zhang/delegation", {"delegate": "li", "starts_on": _today(),
                                                                      "ends_on": _today(), "reason": "x"}, {403}),
        "mail.outbox": ("GET", "/mail", {}, {403}),
        "mail.retry": ("POST", "/mail/1/retry", {}, {403}),
    }


def _today() -> str:
    from engine import clock
    return clock.today().isoformat()


# who may call the rest: anyone signed in (their own inbox, the list of plans that concern them,
# the process library, the home page, their own password), anyone at all (sign in and out, the language, static)
OPEN_TO_ALL_SIGNED_IN = {"inbox.home", "inbox.tasks", "office.plans", "analyst.definitions", "analyst.changes",
                         "analyst.diagram",  # a deployed version's 流程图, as the list of definitions
                         "people.account_password",  # one's own password, with the current one
                         "people.account_tokens",  # one's own API tokens (revoke_token: below)
                         "people.account_delegation",  # one's own delegations (end_delegation: below)
                         "mail.account_email",  # one's own address for mail notifications
                         "people.account",  # the list of those four, as they stand
                         "session_timeout.keep_alive"}  # 继续办理: renews one's own session (401 signed out)
PUBLIC = {"auth.login", "auth.logout", "auth.language", "static",
          "api.openapi",  # the JSON API's description: nothing of anyone's in it
          "health.healthz"}  # for the proxy and monitoring: ok or unavailable, nothing of the configuration


# the JSON API (web/api.py): endpoint -> (method, path, body, the statuses that refuse it), each
# sent with li's own token about zhang's plan and task (f: _foreign); without a token, 401
def _api_attempts(f: dict) -> dict:
    p, t = f["plan"], f["task"]
    seen = {"version": f["version"]}
    return {
        "api.audit_events": ("GET", "/api/v1/audit/events", None, {403}),
        "api.task": ("GET", f"/api/v1/tasks/{t}", None, {404}),
        "api.claim": ("POST", f"/api/v1/tasks/{t}/claim", seen, {404}),
        "api.unclaim": ("POST", f"/api/v1/tasks/{t}/unclaim", seen, {404}),
        "api.complete": ("POST", f"/api/v1/tasks/{t}/complete", {**seen, "data": {}}, {404}),
        "api.plan": ("GET", f"/api/v1/plans/{p}", None, {404}),
        "api.start": ("POST", "/api/v1/plans", {"key": "work_report", "title": "x"}, {403}),
        "api.urge": ("POST", f"/api/v1/tasks/{t}/urge", {"note": "x"}, {403, 404}),
        "api.urge_many": ("POST", "/api/v1/tasks/urge", {"task_ids": [t], "note": "x"}, {403}),
        "api.draft": ("GET", f"/api/v1/tasks/{t}/draft", None, {404}),
        "api.save_draft": ("PUT", f"/api/v1/tasks/{t}/draft", {"values": {"consultationMethods": "x"}}, {404}),
        "api.stats": ("GET", "/api/v1/stats", None, {403}),
        "api.ledger": ("GET", "/api/v1/ledger", None, {403}),
        "api.overview": ("GET", "/api/v1/overview", None, {403}),
        "api.attach": ("POST", f"/api/v1/tasks/{t}/files", None, {404}),
        "api.files": ("GET", f"/api/v1/plans/{p}/files", None, {404}),
        "api.file": ("GET", f"/api/v1/plans/{p}/files/{f['document']}", None, {404}),
        "api.history": ("GET", f"/api/v1/plans/{p}/history", None, {404}),
        "api.comments": ("GET", f"/api/v1/plans/{p}/comments", None, {404}),
        "api.add_comment": ("POST", f"/api/v1/plans/{p}/comments", {"text": "x"}, {404}),
        "api.assign": ("POST", f"/api/v1/tasks/{t}/assign", {**seen, "to": "li"}, {404}),
        "api.stop": ("POST", f"/api/v1/plans/{p}/stop", {"reason": "x"}, {404}),
    }


# the API's own lists and who-am-I: each person's own (test_the_api_lists_show_each_person_only_their_own)
API_OWN = {"api.whoami", "api.tasks", "api.plans", "api.delegations", "api.processes", "api.events"}


def test_every_route_refuses_a_crafted_request_of_someone_who_may_not(demo_engine):
    app = _app(demo_engine, csrf=False)
    f = _foreign(demo_engine)
    attempts = _attempts(f)
    # a new route must say here who may call it
    assert {r.endpoint for r in app.url_map.iter_rules()} == \
        set(attempts) | OPEN_TO_ALL_SIGNED_IN | PUBLIC | set(_api_attempts(f)) | API_OWN | {"people.revoke_token",
                                                                                   "people.end_delegation"}
    client = app.test_client()
    assert _sign_in(client, "li").status_code == 302
    before = _state(demo_engine)
    for endpoint, (method, path, form, refusals) in attempts.items():
        answer = client.open(path, method=method, data=form)
        assert answer.status_code in refusals, (endpoint, answer.status_code)
        assert "DT-2015-02" not in answer.get_data(as_text=True), endpoint
    assert _state(demo_engine) == before
    # a file of a plan li may see is not reached through it: the file's own plan decides
    assert client.get(f"/plans/{f['my_plan']}/files/{f['document']}").status_code == 404
    # signed out, every route but the public ones sends to the sign-in page
    anonymous = app.test_client()
    for endpoint, (method, path, form, _) in attempts.items():
        answer = anonymous.open(path, method=method, data=form)
        assert answer.status_code == 302 and answer.location.startswith("/login"), endpoint


def test_the_lists_show_each_person_only_their_own(demo_engine):
    app = _app(demo_engine, csrf=False)
    client = app.test_client()
    f = _foreign(demo_engine)
    _sign_in(client, "li")
    for path in ("/tasks?scope=all", "/plans", "/plans?q=DT-2015-02"):
        shown = client.get(path).get_data(as_text=True)
        assert f'data-plan="{f["plan"]}"' not in shown and f'data-task="{f["task"]}"' not in shown, path
    assert f'data-task="{f["my_task"]}"' in client.get("/tasks?scope=all").get_data(as_text=True)
    assert f'data-plan="{f["my_plan"]}"' in client.get("/plans").get_data(as_text=True)


def test_the_api_refuses_with_a_token_what_the_pages_refuse(demo_engine):
    app = _app(demo_engine)  # CSRF on: the API needs no form token, and its token is all it takes
    f = _foreign(demo_engine)
    client = app.test_client()
    li = {"Authorization": f"Bearer {demo_engine.create_token('li', 'OA')['secret']}"}
    zhang_token = demo_engine.create_token("zhang", "OA")
    before = _state(demo_engine)
    for endpoint, (method, path, body, refusals) in _api_attempts(f).items():
        answer = client.open(path, method=method, json=body, headers=li)
        assert answer.status_code in refusals, (endpoint, answer.status_code)
        assert "DT-2015-02" not in answer.get_data(as_text=True), endpoint
        anonymous = client.open(path, method=method, json=body)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer"), endpoint
    assert _state(demo_engine) == before
    # a file of another plan is not reached through a plan li may see: the file's own plan decides
    assert client.get(f"/api/v1/plans/{f['my_plan']}/files/{f['document']}", headers=li).status_code == 404
    # someone else's token is not revoked from one's page (the engine refuses: 403), nor listed on it
    assert _sign_in(client, "li").status_code == 302
    page = client.get("/account/tokens").get_data(as_text=True)
    assert f'data-token="{zhang_token["id"]}"' not in page
    answer = client.post(f"/account/tokens/{zhang_token['id']}/revoke", data={"csrf_token": _token(client, "/account/tokens")})
    assert answer.status_code == 302  # back to the page, the refusal flashed
    assert demo_engine.tokens("zhang")[0]["state"] == "active"
    assert client.get("/api/v1/me").status_code == 401  # li's signed-in cookie opens no API


def test_an_id_or_page_past_any_row_is_not_found_on_every_route_not_a_server_error(demo_engine):
    """A number no INTEGER column holds (past 2**31 - 1 on PostgreSQL, past 2**63 - 1 for SQLite
    to bind at all), in every route's ids and in ?page=/offset=: no such page (404), an empty page
    or a refusal, never a server error (500)."""
    app = _app(demo_engine, csrf=False)
    client = app.test_client()
    assert _sign_in(client, "chen").status_code == 302
    api = {"Authorization": f"Bearer {demo_engine.create_token('chen', 'OA')['secret']}"}
    before = _state(demo_engine)
    tried = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for huge in ("2147483648", "99999999999999999999"):
            path = re.sub(r"<int:[^>]+>", huge, rule.rule)
            path = re.sub(r"<[^>]+>", "x", path)  # any other part: text
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                answer = client.open(path, method=method, headers=api if path.startswith("/api/") else None,
                                     json={} if path.startswith("/api/") and method != "GET" else None)
                # not 405 where another method's rule has the same path (PUT/GET draft): web/row_ids.py
                assert answer.status_code == 404, (method, path, answer.status_code)
                tried += 1
    assert tried > 40  # every id route of the web and the API was tried
    for path in ("/tasks?page=99999999999999999999", "/plans?page=99999999999999999999", "/tasks?scope=done&page=99999999999999999999"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/plans?page=99999999999999999999", headers=api).status_code == 422  # invalid
    assert client.get("/api/v1/tasks?offset=99999999999999999999", headers=api).status_code == 422
    assert _state(demo_engine) == before


def test_someone_elses_delegation_is_neither_listed_nor_ended_from_ones_page(demo_engine):
    from engine import clock
    client = _app(demo_engine).test_client()
    made = demo_engine.delegate("zhang", to="wang", starts_on=clock.today(), ends_on=clock.today(), reason="出差",
                                actor="zhang")
    assert _sign_in(client, "li").status_code == 302
    page = client.get("/account/delegation").get_data(as_text=True)
    assert f'data-delegation="{made["id"]}"' not in page
    answer = client.post(f"/account/delegation/{made['id']}/end",
                         data={"csrf_token": _token(client, "/account/delegation")})
    assert answer.status_code == 302  # back to the page, the refusal flashed
    assert [d["state"] for d in demo_engine.delegations("zhang")] == ["in_force"]
    assert "只有委托人、受托人或改革办可以结束委托" in client.get("/account/delegation").get_data(as_text=True)


def test_the_api_lists_show_each_person_only_their_own(demo_engine):
    client = _app(demo_engine).test_client()
    f = _foreign(demo_engine)
    li = {"Authorization": f"Bearer {demo_engine.create_token('li', 'OA')['secret']}"}
    assert client.get("/api/v1/me", headers=li).get_json()["username"] == "li"
    for scope in ("mine", "claimable", "all", "done"):
        shown = client.get(f"/api/v1/tasks?scope={scope}&limit=200", headers=li).get_json()["tasks"]
        assert f["task"] not in {t["id"] for t in shown} and f["plan"] not in {t["instance_id"] for t in shown}, scope
    assert f["my_task"] in {t["id"] for t in client.get("/api/v1/tasks", headers=li).get_json()["tasks"]}
    plans = client.get("/api/v1/plans", headers=li).get_json()["plans"]
    assert f["plan"] not in {p["id"] for p in plans} and f["my_plan"] in {p["id"] for p in plans}
    assert client.get("/api/v1/plans?q=DT-2015-02", headers=li).get_json()["plans"] == []
    events = client.get("/api/v1/events?limit=200", headers=li).get_json()["events"]
    assert f["plan"] not in {e["instance_id"] for e in events} and f["my_plan"] in {e["instance_id"] for e in events}
    # what li may start: not the reform office's round of work reports (POST /plans would be 403)
    assert "work_report" not in {p["key"] for p in client.get("/api/v1/processes", headers=li).get_json()["processes"]}


# ---------------------------------------------------------------- CSRF and GET
def test_every_post_needs_its_form_token_and_no_get_changes_anything(demo_engine):
    app = _app(demo_engine)
    f = _foreign(demo_engine)
    client = app.test_client()
    assert _sign_in(client, "chen").status_code == 302  # the office: every POST would otherwise act
    before = _state(demo_engine)
    # the JSON API's POSTs take no form token and no cookie: without a bearer token they are 401
    # (test_the_api_refuses_with_a_token_what_the_pages_refuse)
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.endpoint.startswith("api.")]
    assert {r.endpoint for r in posts} >= {"auth.logout", "auth.language", "auth.login"}
    values = {"task_id": f["my_task"], "instance_id": f["my_plan"], "code": "en", "year": 2027, "username": "li",
              "token_id": 1, "delegation_id": 1, "mail_id": 1, "key": "reform_plan"}
    for rule in posts:
        path = rule.build(values, append_unknown=False)[1]
        answer = client.post(path, data={"version": "1", "to": "li", "reason": "x", "confirm": "1", "action": "deploy"})
        assert answer.status_code == 400 and "页面已过期" in answer.get_data(as_text=True), rule.endpoint
    assert _state(demo_engine) == before
    assert client.get("/tasks").status_code == 200  # still signed in: the logout without a token did nothing
    # every GET, as a link or an image on another site would send it, changes nothing
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            path = rule.build({**values, "fmt": "csv", "document_id": f["document"], "check_id": 1, "key": "filing", "version": 2}, append_unknown=False)[1]
            client.get(path)
    client.get("/plans/new?key=reform_plan&plan_title=x&plan_business_key=DT-X")
    client.get(f"/plans/{f['my_plan']}/stop?reason=x&confirm=1")
    assert _state(demo_engine) == before


# ---------------------------------------------------------------- text shown as text
def test_text_from_people_and_diagrams_is_shown_never_run(live, page):
    engine = live.app.extensions["reformflow"]
    diagram = open(FIXTURE, encoding="utf-8").read()
    escaped = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    diagram = (diagram.replace("起草方案。", f"起草{escaped}")
                      .replace('label="方案摘要"', f'label="摘要{escaped}"')
                      .replace('name="简易审批"', f'name="审批{escaped}"'))
    engine.deploy([("hostile.bpmn", diagram.encode())], actor="chen")
    plan = engine.start("mini_approval", actor="zhang", title=f"方案{HOSTILE}", data={})
    [draft] = plan["tasks"]
    quoted = "a' onclick='document.title=1' &amp; b.pdf"  # a name may not hold <>" but may hold these
    engine.attach(draft["id"], quoted, b"%PDF-1.4", actor="zhang", expected_version=None)
    sign_in(page, live, "zhang")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def nothing_ran():
        page.wait_for_load_state("load")  # the whole page, not what is parsed so far, before saying nothing ran
        assert page.locator("main img, main script, main [onerror]").count() == 0
        assert page.title() != "1"

    page.goto(f"{live.url}/tasks/{draft['id']}")
    expect(page.locator("section.doc")).to_contain_text(f"起草{HOSTILE}")
    expect(page.locator("label[for=f-summary]")).to_contain_text(f"摘要{HOSTILE}")
    expect(page.locator("nav.crumbs")).to_contain_text(f"方案{HOSTILE}")
    expect(page.locator("section.documents")).to_contain_text(quoted)
    assert page.locator("[onclick]").count() == 0
    nothing_ran()
    # what someone typed, shown again with a refusal (days below its minimum), stays text
    typed = f"</textarea>{HOSTILE}"
    page.locator("#f-summary").fill(typed)
    page.locator("#f-days").fill("1")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".error-summary")).to_contain_text("表单有")
    expect(page.locator("#f-summary")).to_have_value(typed)
    nothing_ran()
    # a file's name in the message after uploading it, and in the refusal of a name with <>
    page.locator("#files").set_input_files([{"name": f"{quoted}.txt", "mimeType": "text/plain", "buffer": b"x"}])
    page.get_by_role("button", name="仅上传所选附件").click()
    expect(page.locator("p.flash.ok")).to_contain_text(f"已上传附件「{quoted}.txt」")
    page.locator("#files").set_input_files([{"name": f"{HOSTILE}.txt", "mimeType": "text/plain", "buffer": b"x"}])
    page.get_by_role("button", name="仅上传所选附件").click()
    expect(page.locator("p.flash.error")).to_contain_text(f"附件 {HOSTILE}.txt：")
    nothing_ran()
    # a comment, on the task's page and in the plan's comments and trail
    page.locator("#plan-comment").fill(HOSTILE)
    page.get_by_role("button", name="仅留言").click()
    expect(page.locator("ol.comments")).to_contain_text(HOSTILE)
    nothing_ran()
    for path in ("/tasks", f"/plans/{plan['id']}", f"/plans/{plan['id']}/documents", "/plans", "/definitions",
                 f"/plans/{plan['id']}/diagram"):
        page.goto(f"{live.url}{path}")
        expect(page.locator("main")).to_contain_text(HOSTILE)
        nothing_ran()
    assert dialogs == []
    # the file itself is a download, never a page of this site
    [uploaded] = [d for d in engine.documents(plan["id"]) if d["file_name"].endswith(".txt")]
    answer = page.request.get(f"{live.url}/plans/{plan['id']}/files/{uploaded['id']}")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in answer.headers["content-security-policy"]


# ---------------------------------------------------------------- headers
def test_every_page_says_no_framing_no_sniffing_no_script_and_no_referrer_abroad(demo_engine):
    app = _app(demo_engine, csrf=False)
    f = _foreign(demo_engine)
    client = app.test_client()
    answers = {"/login": client.get("/login"), "/login (refused)": client.post("/login", data={"username": "x"})}
    _sign_in(client, "chen")
    for path in ("/tasks", f"/tasks/{f['task']}", f"/plans/{f['plan']}", "/plans", "/ledger", "/audit",
                 "/definitions", "/definitions/deploy", "/plans/new", "/no-such-page", f"/plans/{f['plan']}/stop",
                 "/ledger.csv", f"/plans/{f['plan']}/archive.csv", "/audit/export.csv"):
        answers[path] = client.get(path)
    for path, answer in answers.items():
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), path
        assert headers.get("X-Frame-Options") == "DENY", path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "same-origin", path
        assert headers.get("Cache-Control") == "private, no-store", path
        assert headers.get("Content-Type", "").count("charset") <= 1, (path, headers.get("Content-Type"))
        if answer.mimetype == "text/html":  # the site's own script file only: none inline, none elsewhere
            assert "script-src 'self';" in headers["Content-Security-Policy"], path
            assert "unsafe" not in headers["Content-Security-Policy"], path
    download = client.get(f"/plans/{f['plan']}/files/{f['document']}")
    assert download.headers["Content-Security-Policy"].startswith("default-src 'none'; sandbox")  # its own, stricter


def test_the_pages_work_under_their_content_security_policy(live, page):
    """No page needs what the policy forbids: the style sheet applies, nothing is reported."""
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, live, "chen")
    task = _task(live.app.extensions["reformflow"], "DT-2015-04", "Task_LegalityReview")
    for path in ("/tasks", f"/tasks/{task['id']}", f"/plans/{task['instance_id']}", "/ledger", "/plans/new"):
        page.goto(f"{live.url}{path}")
        assert page.locator("header.top").evaluate("e => getComputedStyle(e).display") != "inline", path
    page.get_by_role("button", name="English").click()  # a form still posts
    expect(page.get_by_role("button", name="中文")).to_be_visible()
    page.wait_for_load_state("load")  # its style sheet and scripts fetched: a refusal would have been reported
    assert violations == []


# ---------------------------------------------------------------- sessions
def test_signing_out_ends_every_copy_of_the_session(demo_engine):
    app = _app(demo_engine)
    client = app.test_client()
    _sign_in(client, "li")
    copy = app.test_client()  # the cookie as someone copied it (a shared computer, a stolen cookie)
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/tasks").status_code == 200
    assert client.post("/logout", data={"csrf_token": _token(client, "/tasks")}).status_code == 302
    assert client.get("/tasks").status_code == 302
    answer = copy.get("/tasks")
    assert answer.status_code == 302 and answer.location.startswith("/login")
    assert _sign_in(client, "li").status_code == 302 and client.get("/tasks").status_code == 200  # anew: fine


def test_two_pages_opened_at_once_just_after_signing_in_both_send_their_forms(demo_engine):
    """Tabs restored right after signing in: both pages are asked for with the sign-in's cookie,
    each answer sets the cookie, the later wins; the other page's form must still be taken."""
    app = _app(demo_engine)
    first = app.test_client()
    assert _sign_in(first, "zhang").status_code == 302
    second = app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    first_page, second_page = _token(first, "/tasks"), _token(second, "/tasks")  # at once: neither saw the other's cookie
    first.set_cookie("session", second.get_cookie("session").value)  # the later answer's cookie is the browser's
    for token in (first_page, second_page):
        answer = first.post("/language/en", data={"csrf_token": token, "next": "/tasks"})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]


def test_signing_in_starts_a_new_session_and_keeps_only_the_language(demo_engine):
    """A session cookie planted before sign-in (and the form token it holds, known to whoever
    planted it) is worth nothing afterwards."""
    app = _app(demo_engine)
    client = app.test_client()
    before = _token(client)
    client.post("/language/en", data={"csrf_token": before, "next": "/login"})
    answer = client.post("/login", data={"username": "li", "password": "demo", "csrf_token": before})
    assert answer.status_code == 302
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400  # the old token: refused
    page = client.get("/tasks").get_data(as_text=True)
    assert 'lang="en"' in page and "中文" in page  # still signed in, still in English


def test_a_deactivated_person_is_signed_out_at_the_next_click_and_stays_out(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "li")
    engine.deactivate_user("li", actor="chen")
    page.goto(f"{live.url}/tasks")
    expect(page).to_have_url(re.compile(r"/login"))
    engine.reactivate_user("li", actor="chen")  # back again: the session from before stays over
    page.goto(f"{live.url}/tasks")
    expect(page).to_have_url(re.compile(r"/login"))
    sign_in(page, live, "li")
    expect(page.locator("span.me")).to_contain_text("李娜")


def test_the_session_cookie_is_not_for_scripts_nor_other_sites(demo_engine):
    client = _app(demo_engine).test_client()
    answer = _sign_in(client, "li")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---------------------------------------------------------------- signing in
def test_a_wrong_password_an_unknown_name_and_a_deactivated_user_get_the_same_answer(demo_engine):
    demo_engine.deactivate_user("zhou", actor="chen")
    real_password_hashes(demo_engine, "li", "zhou")
    client = _app(demo_engine, csrf=False).test_client()
    client.post("/login", data={"username": "li", "password": "warm-up"})
    answers, times = {}, {}
    for name in ("li", "nobody-here", "zhou"):
        took = []
        for _ in range(4):  # the fastest of four (the warm-up and these stay within PER_NAME): load delays some tries, rarely all
            started = time.perf_counter()
            answer = client.post("/login", data={"username": name, "password": "wrong"})
            took.append(time.perf_counter() - started)
        answers[name], times[name] = (answer.status_code, _flash(answer)), min(took)
    assert len(set(answers.values())) == 1, answers
    assert answers["li"] == (401, "用户名或密码不正确。没有密码的用户请向改革办申领。")
    assert max(times.values()) < 4 * min(times.values()), times  # a password hash checked for each
    # who knows the password is told why they cannot sign in
    assert _flash(client.post("/login", data={"username": "zhou", "password": "demo"})) == "该用户已停用，请联系改革办。"


def test_repeated_failures_for_one_name_are_refused_for_a_while_saying_until_when(demo_engine):
    app = _app(demo_engine, csrf=False)
    client = app.test_client()
    with clock.frozen(datetime(2026, 3, 2, 9, 0)):
        for _ in range(sign_in_throttle.PER_NAME):
            assert client.post("/login", data={"username": "li", "password": "guess"}).status_code == 401
        answer = client.post("/login", data={"username": "li", "password": "demo"})  # right, but too late
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "901"
        assert _flash(answer) == "登录失败次数过多，请于 2026年3月2日 09:15 后再试。"
        elsewhere = _client_at(app, "10.1.2.3")
        assert elsewhere.post("/login", data={"username": "li", "password": "demo"}).status_code == 429
        assert elsewhere.post("/login", data={"username": "zhang", "password": "demo"}).status_code == 302
        # an unknown name is counted the same: its answer tells nothing
        for _ in range(sign_in_throttle.PER_NAME):
            client.post("/login", data={"username": "nobody-here", "password": "guess"})
        assert client.post("/login", data={"username": "nobody-here", "password": "guess"}).status_code == 429
    with clock.frozen(datetime(2026, 3, 2, 9, 15, 1)):
        assert client.post("/login", data={"username": "li", "password": "demo"}).status_code == 302
    with demo_engine.db.reader() as s:  # li's failures are forgotten once she is in; the others pass
        assert s.execute(select(SignInFailure.username)).scalars().all() == ["nobody-here"] * 5


def test_many_names_tried_from_one_address_are_refused_too(demo_engine, monkeypatch):
    monkeypatch.setattr(sign_in_throttle, "PER_ADDRESS", 3)
    app = _app(demo_engine, csrf=False)
    guesser = _client_at(app, "10.9.9.9")
    for name in ("li", "zhang", "ma"):
        assert guesser.post("/login", data={"username": name, "password": "guess"}).status_code == 401
    assert guesser.post("/login", data={"username": "xie", "password": "demo"}).status_code == 429
    assert app.test_client().post("/login", data={"username": "xie", "password": "demo"}).status_code == 302


# ---------------------------------------------------------------- redirects
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/",
                                    "/\t/evil.example/", "javascript:alert(1)", "http:/evil.example",
                                    # a line break: a 500 (the header refused), the person signed in all the same
                                    "/tasks\nX: y", "/tasks\r\nSet-Cookie: a=b"])
def test_redirects_stay_on_this_site(demo_engine, target):
    client = _app(demo_engine, csrf=False).test_client()
    for answer in (client.post("/language/en", data={"next": target}),
                   client.post("/login", query_string={"next": target}, data={"username": "li", "password": "demo"})):
        assert answer.status_code == 302
        location = answer.location  # as a browser reads it: backslashes and tabs would count
        assert urlsplit(urljoin("http://reformflow.test/x", location)).netloc == "reformflow.test", location
        assert not re.search(r"[\\\t\n]", location), location


def test_the_way_back_keeps_the_path_prefix_the_site_is_served_under(demo_engine):
    """Served under a prefix (a proxy's X-Forwarded-Prefix, docs/operations.md), the language switch
    and the sign-in after a session ended sent a person to /tasks/7 at the host's root, outside the
    site (the reviewer fix of 6 December 2026 noticed it)."""
    client = _app(demo_engine, csrf=False).test_client()
    prefixed = {"base_url": "http://localhost/reform/"}
    assert client.post("/login", data={"username": "li", "password": "demo"}, **prefixed).status_code == 302
    task = _task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    page = client.get(f"/tasks/{task['id']}", **prefixed).get_data(as_text=True)
    assert f'name="next" value="/reform/tasks/{task["id"]}"' in page
    switched = client.post("/language/en", data={"next": f"/reform/tasks/{task['id']}"}, **prefixed)
    assert switched.status_code == 302 and urlsplit(switched.location).path == f"/reform/tasks/{task['id']}"
    # the question before a decision is a POST: its way back is the task's page, prefix and all
    assert client.post("/language/zh", data={"next": f"/reform/tasks/{task['id']}/complete"},
                       **prefixed).location.endswith(f"/reform/tasks/{task['id']}")
    client.post("/logout", **prefixed)
    out = client.get(f"/tasks/{task['id']}", **prefixed)
    assert out.status_code == 302 and "next=%2Freform%2Ftasks" in out.location
