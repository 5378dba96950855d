"""The JSON API (/api/v1) as another system uses it: personal access tokens made, listed and
revoked (engine, command line), every refused token answered 401 with a Bearer challenge, the
inbox, a task's form, claim, complete (refused fields 422, a stale version 409), the plans one may
see and no others, starting a plan, messages in the request's language, the OpenAPI document
matching the routes, and the trail keeping the tokens' events with its chain intact."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.audit import iter_events, verify
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid, Unauthorized
from models import ApiToken
from web import create_app

from . import file_samples
from .conftest import FIXTURES, read

OPENAPI = Path(__file__).resolve().parents[1] / "web" / "openapi.json"


def _client(engine):
    app = create_app(engine=engine, secret_key="test", testing=True)  # CSRF on: the API must not need it
    return app.test_client()


def _auth(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def mini(engine, people):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    return engine


# ---------------------------------------------------------------- tokens in the engine
def test_a_token_is_made_shown_once_listed_without_its_secret_and_revoked(engine, people):
    made = engine.create_token("zhang", "  OA 系统 ", date(2099, 12, 31))
    assert made["secret"].startswith("rf_") and len(made["secret"]) == 46
    assert (made["name"], made["state"], made["expires_at"]) == ("OA 系统", "active", "2099-12-31T16:00:00+00:00")
    with engine.db.reader() as s:
        kept = s.execute(select(ApiToken)).scalar_one()
    assert made["secret"] not in repr(vars(kept)) and len(kept.secret_sha256) == 64
    listed = engine.tokens("zhang")
    assert [t["name"] for t in listed] == ["OA 系统"] and "secret" not in listed[0]
    assert engine.token_user(made["secret"]).username == "zhang"
    with pytest.raises(Forbidden):
        engine.tokens("wang", owner="zhang")  # another drafter may not list them
    assert engine.tokens("chen", owner="zhang") == engine.tokens("zhang")  # the reform office may
    with pytest.raises(Forbidden):
        engine.revoke_token("wang", made["id"])
    assert engine.revoke_token("chen", made["id"])["state"] == "revoked"  # the office revokes a leaked one
    with pytest.raises(Conflict):
        engine.revoke_token("zhang", made["id"])
    with pytest.raises(Unauthorized, match="已撤销"):
        engine.token_user(made["secret"])
    for name in ("", "   ", "x" * 101, "a\u202eb"):
        with pytest.raises(Invalid):
            engine.create_token("zhang", name)
    with pytest.raises(Invalid, match="已过"):
        engine.create_token("zhang", "old", date(2020, 1, 1))


def test_an_expired_token_and_a_deactivated_owner_are_refused(engine, people, at):
    with at("2026-03-10T09:00"):
        short = engine.create_token("zhang", "script", date(2026, 3, 10))
        assert engine.token_user(short["secret"]).username == "zhang"  # all of its last day, Beijing time
    with at("2026-03-11T00:00"), pytest.raises(Unauthorized, match="到期"):
        engine.token_user(short["secret"])
    kept = engine.create_token("wang", "dashboard")
    assert engine.deactivate_user("wang", actor="chen")["tokens_revoked"] == 1
    with pytest.raises(Unauthorized, match="已撤销"):
        engine.token_user(kept["secret"])
    engine.reactivate_user("wang", actor="chen")  # the person is back; the systems acting as them are not
    with pytest.raises(Unauthorized, match="已撤销"):
        engine.token_user(kept["secret"])
    assert [t["state"] for t in engine.tokens("wang")] == ["revoked"]
    fresh = engine.create_token("wang", "new dashboard")
    assert engine.token_user(fresh["secret"]).username == "wang"


def test_a_token_s_last_use_is_kept_to_within_five_minutes(engine, people, at):
    def trail_length():
        with engine.db.reader() as s:
            return sum(1 for _ in iter_events(s))

    with at("2026-03-10T09:00"):
        made = engine.create_token("zhang", "OA 系统")
        before = trail_length()
        assert engine.tokens("zhang")[0]["last_used_at"] is None  # the page says 从未使用
        engine.token_user(made["secret"])
        assert engine.tokens("zhang")[0]["last_used_at"] == "2026-03-10T01:00:00+00:00"
    with at("2026-03-10T09:04"):  # a client polling: not a write per request
        engine.token_user(made["secret"])
        assert engine.tokens("zhang")[0]["last_used_at"] == "2026-03-10T01:00:00+00:00"
    with at("2026-03-10T09:06"):
        engine.token_user(made["secret"])
        assert engine.tokens("zhang")[0]["last_used_at"] == "2026-03-10T01:06:00+00:00"
        with pytest.raises(Unauthorized):
            engine.token_user(made["secret"] + "x")  # a wrong secret uses no token
        assert engine.tokens("chen", owner="zhang")[0]["last_used_at"] == "2026-03-10T01:06:00+00:00"
    assert trail_length() == before  # a use is not an action of anyone's: nothing on the trail


def test_the_command_line_adds_lists_and_revokes_tokens(sqlite_engine):
    from tests.conftest import add_people
    add_people(sqlite_engine)
    url = sqlite_engine.db.url
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--db", url, "tokens", *args], catch_exceptions=False)
    added = run("add", "OA 系统", "--as", "zhang", "--expires", "2099-01-31")
    assert added.exit_code == 0, added.output
    assert "已创建访问令牌 1「OA 系统」，有效至 2099-01-31" in added.stdout
    secret = next(line.split("：", 1)[1] for line in added.stdout.splitlines() if line.startswith("密钥 (secret)"))
    assert sqlite_engine.token_user(secret).username == "zhang"
    shown = json.loads(run("list", "--as", "zhang", "--json").stdout)
    assert [(t["id"], t["state"]) for t in shown["tokens"]] == [(1, "active")] and secret not in json.dumps(shown)
    assert run("list", "--as", "wang", "--user", "zhang").exit_code == 4
    assert run("revoke", "1", "--as", "wang").exit_code == 4
    revoked = run("revoke", "1", "--as", "zhang", "--json")
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["state"] == "revoked"
    again = run("revoke", "1", "--as", "zhang", "--json")
    assert again.exit_code == 6 and json.loads(again.stdout)["error"] == "conflict"
    with pytest.raises(Unauthorized):
        sqlite_engine.token_user(secret, address="10.1.2.3")  # a script nobody updated
    listed = run("list", "--as", "zhang").stdout
    assert "失效后仍有人使用 (still sent after it ended) " in listed
    assert json.loads(run("list", "--as", "zhang", "--json").stdout)["tokens"][0]["refused_at"] is not None


# ---------------------------------------------------------------- who is asking
def test_without_a_valid_token_every_endpoint_answers_401_with_a_bearer_challenge(sqlite_engine, at):
    from tests.conftest import add_people
    add_people(sqlite_engine)
    client = _client(sqlite_engine)
    with at("2026-03-10T09:00"):
        revoked = sqlite_engine.create_token("zhang", "old")
        sqlite_engine.revoke_token("zhang", revoked["id"])
        expiring = sqlite_engine.create_token("zhang", "short", date(2026, 3, 10))
        leaver = sqlite_engine.create_token("wang", "leaver")
    sqlite_engine.deactivate_user("wang", actor="chen")
    app = client.application
    routes = [(r, sorted(r.methods - {"HEAD", "OPTIONS"})[0]) for r in app.url_map.iter_rules()
              if r.endpoint.startswith("api.") and r.endpoint != "api.openapi"]
    assert len(routes) == 28  # every endpoint but the document
    bad = {"none": {}, "not bearer": {"Authorization": "Basic emhhbmc6ZGVtbw=="}, "empty": {"Authorization": "Bearer "},
           "unknown": _auth("rf_" + "x" * 43), "revoked": _auth(revoked["secret"]),
           "expired": _auth(expiring["secret"]), "deactivated": _auth(leaver["secret"])}
    with at("2026-03-11T10:00"):
        for rule, method in routes:
            path = rule.build({"task_id": 1, "instance_id": 1, "document_id": 1}, append_unknown=False)[1]
            for why, headers in bad.items():
                answer = client.open(path, method=method, headers=headers, json={})
                assert answer.status_code == 401, (path, why)
                assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="reformflow"'), (path, why)
                assert answer.get_json()["error"] == "unauthorized", (path, why)
        said = {why: client.get("/api/v1/me", headers=h).get_json()["message"] for why, h in bad.items()}
    assert "Authorization: Bearer" in said["none"] and "已撤销" in said["revoked"]
    assert "2026-03-10 到期" in said["expired"]
    assert "已撤销" in said["deactivated"]  # deactivating its owner revoked it
    english = client.get("/api/v1/me", headers={**_auth(revoked["secret"]), "Accept-Language": "en-GB,en;q=0.8"})
    assert english.get_json()["message"] == "the access token was revoked"


def test_the_session_cookie_of_a_signed_in_browser_opens_nothing(sqlite_engine):
    from tests.conftest import add_people
    add_people(sqlite_engine)
    sqlite_engine.set_password("zhang", "zhang-pass-1", actor="chen")
    app = create_app(engine=sqlite_engine, secret_key="test", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "zhang", "password": "zhang-pass-1"}).status_code == 302
    assert client.get("/tasks").status_code == 200  # signed in
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/plans", json={"key": "mini_approval"}).status_code == 401


# ---------------------------------------------------------------- the work, on SQLite and PostgreSQL
def test_a_drafter_and_a_reviewer_work_through_the_api(mini):
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    li = _auth(engine.create_token("li", "legal OA")["secret"])
    me = client.get("/api/v1/me", headers=zhang).get_json()
    assert (me["username"], me["display_name"], me["unit"], me["groups"], me["office"]) == \
        ("zhang", "张伟", "市财政局", ["drafter"], False)
    assert me["token"]["name"] == "OA"

    started = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "API 方案",
                                                                  "business_key": "API-1"})
    assert started.status_code == 201, started.get_json()
    plan = started.get_json()
    assert started.headers["Location"] == f"/api/v1/plans/{plan['id']}"
    again = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "business_key": "API-1"})
    assert (again.status_code, again.get_json()["error"]) == (409, "conflict")

    mine = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()
    assert mine["total"] == 1 and [t["element_id"] for t in mine["tasks"]] == ["Task_Draft"]
    draft_id = mine["tasks"][0]["id"]
    assert client.get("/api/v1/tasks?scope=mine&q=没有这个", headers=zhang).get_json()["tasks"] == []
    draft = client.get(f"/api/v1/tasks/{draft_id}", headers=zhang).get_json()
    assert [f["id"] for f in draft["form"]] == ["summary", "days"] and draft["values"]["days"] == 30
    # refused fields: 422, each problem at its field, nothing done
    refused = client.post(f"/api/v1/tasks/{draft_id}/complete", headers=zhang,
                          json={"data": {"days": 3}, "version": draft["version"]})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "invalid" and {d["field"] for d in body["details"]} == {"summary", "days"}
    said = {d["field"]: d["message"] for d in body["details"]}  # in one language: Chinese by default
    assert said == {"summary": "「方案摘要」(summary) 为必填项", "days": "「征求意见天数」(days) 不得小于 7"}
    # the message, whole, in that one language too (it was both, and in English only "required")
    assert body["message"] == "表单有误：「方案摘要」(summary) 为必填项；「征求意见天数」(days) 不得小于 7"
    english = client.post(f"/api/v1/tasks/{draft_id}/complete?lang=en", headers=zhang,
                          json={"data": {"days": 3}, "version": draft["version"]}).get_json()
    assert english["message"] == "form data refused: summary: required; days: at least 7"
    done = client.post(f"/api/v1/tasks/{draft_id}/complete", headers=zhang,
                       json={"data": {"summary": "以 API 提交", "days": 10}, "comment": "请审核", "version": draft["version"]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"

    # the reviewer: claimable, a stale version refused (409), claimed, completed
    claimable = client.get("/api/v1/tasks?scope=claimable", headers=li).get_json()["tasks"]
    [review] = [t for t in claimable if t["instance_id"] == plan["id"]]
    stale = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=li, json={"version": review["version"] - 1})
    assert (stale.status_code, stale.get_json()["error"]) == (409, "conflict")
    assert "刷新" in stale.get_json()["message"]
    claimed = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=li, json={"version": review["version"]})
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "li"
    seen = client.get(f"/api/v1/tasks/{review['id']}", headers=li).get_json()
    no_version = client.post(f"/api/v1/tasks/{review['id']}/complete", headers=li, json={"data": {"decision": "approve"}})
    assert no_version.status_code == 422 and "version" in no_version.get_json()["message"]
    old = client.post(f"/api/v1/tasks/{review['id']}/complete", headers=li,
                      json={"data": {"decision": "approve"}, "version": review["version"]})
    assert old.status_code == 409  # the version before the claim
    finished = client.post(f"/api/v1/tasks/{review['id']}/complete", headers=li,
                           json={"data": {"decision": "approve"}, "version": seen["version"]})
    assert finished.status_code == 200, finished.get_json()

    shown = client.get(f"/api/v1/plans/{plan['id']}", headers=li).get_json()
    assert shown["status"] == "completed" and [c["text"] for c in shown["comments"]] == ["请审核"]
    done_list = client.get("/api/v1/tasks?scope=done", headers=li).get_json()
    assert [t["id"] for t in done_list["tasks"]] == [review["id"]]
    assert [p["id"] for p in client.get("/api/v1/plans", headers=zhang).get_json()["plans"]] == [plan["id"]]

    # someone with nothing to do with the plan: not found, as a plan that does not exist
    zhao = _auth(engine.create_token("zhao", "other unit")["secret"])
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=zhao).status_code == 404
    assert client.get(f"/api/v1/tasks/{draft_id}", headers=zhao).status_code == 404
    assert client.get("/api/v1/plans", headers=zhao).get_json()["plans"] == []
    assert client.get("/api/v1/plans/999999", headers=zhao).get_json()["error"] == "not_found"

    with engine.db.reader() as s:
        assert verify(s).ok


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_text_file_is_downloaded_with_its_own_encoding(mini, encoding):
    """A .txt saved as ANSI by Notepad on a Chinese Windows is GBK: said to be utf-8, a browser
    showing it showed mojibake."""
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "纪要"}).get_json()
    draft = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    content = "会议纪要：同意。".encode(encoding)
    made = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                       data={"file": (io.BytesIO(content), "纪要.txt")}).get_json()
    got = client.get(f"/api/v1/plans/{plan['id']}/files/{made['id']}", headers=zhang)
    assert got.data == content
    assert got.headers["Content-Type"] == f"text/plain; charset={encoding}"


def test_files_are_attached_listed_and_downloaded_through_the_api(mini):
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "附件方案"}).get_json()
    draft = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    content = file_samples.pdf("方案稿（第一稿）" * 100)

    no_part = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang, data={"note": "x"})
    assert (no_part.status_code, no_part.get_json()["error"]) == (422, "invalid")
    assert "file" in no_part.get_json()["message"]
    attached = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                           data={"file": (io.BytesIO(content), "方案稿.pdf")})
    assert attached.status_code == 201, attached.get_json()
    made = attached.get_json()
    assert (made["file_name"], made["size"], made["attached_by"], made["task_id"]) == \
        ("方案稿.pdf", len(content), "zhang", draft["id"])
    assert made["sha256"] == hashlib.sha256(content).hexdigest()

    listed = client.get(f"/api/v1/plans/{plan['id']}/files", headers=zhang).get_json()["files"]
    assert [f["id"] for f in listed] == [made["id"]]
    got = client.get(f"/api/v1/plans/{plan['id']}/files/{made['id']}", headers=zhang)
    assert got.status_code == 200 and got.data == content
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert (got.headers["Content-Type"], got.headers["X-Content-Type-Options"]) == ("application/pdf", "nosniff")
    assert "%E6%96%B9%E6%A1%88%E7%A8%BF.pdf" in got.headers["Content-Disposition"]  # 方案稿.pdf, UTF-8

    # not the holder of the step: refused; not one who may see the plan: as if it did not exist
    zhao = _auth(engine.create_token("zhao", "OA")["secret"])
    chen = _auth(engine.create_token("chen", "OA")["secret"])
    other = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=chen,
                        data={"file": (io.BytesIO(file_samples.pdf()), "x.pdf")})
    assert (other.status_code, other.get_json()["error"]) == (403, "forbidden")
    for who in (zhao,):  # another drafter (wang) may see a plan in drafting, as on the web
        assert client.get(f"/api/v1/plans/{plan['id']}/files", headers=who).status_code == 404
        assert client.get(f"/api/v1/plans/{plan['id']}/files/{made['id']}", headers=who).status_code == 404
        assert client.post(f"/api/v1/tasks/{draft['id']}/files", headers=who,
                           data={"file": (io.BytesIO(file_samples.pdf()), "x.pdf")}).status_code == 404
    assert client.get(f"/api/v1/plans/{plan['id']}/files/{made['id'] + 1}", headers=zhang).status_code == 404
    refused_kind = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                               data={"file": (io.BytesIO(b"MZ"), "tool.exe")})
    assert refused_kind.status_code == 422
    # a web page named .pdf: refused, saying what it seems to be
    page = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                       data={"file": (io.BytesIO(file_samples.HTML), "方案稿.pdf")})
    assert (page.status_code, page.get_json()["error"]) == (422, "invalid")
    assert "附件 方案稿.pdf：文件名是 .pdf，但内容看起来是网页（HTML）" in page.get_json()["message"]
    assert [f["id"] for f in engine.documents(plan["id"])] == [made["id"]]  # a refused file kept nothing

    # attaching did not change the task: the version read before the file still completes it
    done = client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhang,
                       json={"data": {"summary": "附件已上传", "days": 10}, "version": draft["version"]})
    assert done.status_code == 200, done.get_json()
    late = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                       data={"file": (io.BytesIO(file_samples.pdf()), "x.pdf")})
    assert late.status_code == 409  # completed: nothing more can be attached to it
    with engine.db.reader() as s:
        assert verify(s).ok


def test_refusals_in_the_request_s_language_and_bad_requests(mini):
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    zhao = _auth(mini.create_token("zhao", "OA")["secret"])
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval"}).get_json()
    review_less = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    # zhao may not see the draft: 404; the reform office may, but may not complete zhang's step: 403
    chen = _auth(mini.create_token("chen", "OA")["secret"])
    forbidden = client.post(f"/api/v1/tasks/{review_less['id']}/complete?lang=en", headers=chen,
                            json={"data": {"summary": "x"}, "version": review_less["version"]})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"
    assert not any("\u4e00" <= c <= "\u9fff" for c in forbidden.get_json()["message"].replace("起草", ""))
    assert client.post(f"/api/v1/tasks/{review_less['id']}/claim", headers=zhao, json={}).status_code == 404
    assert client.get("/api/v1/tasks?scope=everything", headers=zhang).status_code == 422
    assert client.get("/api/v1/tasks?limit=0", headers=zhang).status_code == 422
    assert client.get("/api/v1/tasks?limit=201", headers=zhang).status_code == 422
    not_json = client.post("/api/v1/plans", headers={**zhang, "Content-Type": "application/json"}, data="[1,")
    assert not_json.status_code == 422 and not_json.get_json()["error"] == "invalid"
    unknown = client.post("/api/v1/plans", headers=zhang, json={"key": "no_such_process"})
    assert unknown.status_code == 404
    assert client.get("/api/v1/nothing-here", headers=zhang).get_json()["error"] == "not_found"
    wrong_method = client.delete(f"/api/v1/plans/{plan['id']}", headers=zhang)
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert "GET" in wrong_method.headers["Allow"]  # what the address does take
    page = client.get("/api/v1/tasks?limit=1&offset=0&scope=all", headers=chen).get_json()
    assert page["limit"] == 1 and len(page["tasks"]) == 1 and page["total"] >= 1


def test_the_office_urges_and_reads_step_times_through_the_api_others_may_not(mini):
    client = _client(mini)
    zhang = _auth(mini.create_token("zhang", "OA")["secret"])
    chen = _auth(mini.create_token("chen", "督办系统")["secret"])
    client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval"})
    draft = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    assert draft["urged"] is None
    urged = client.post(f"/api/v1/tasks/{draft['id']}/urge", headers=chen, json={"note": "请今天提交"})
    assert urged.status_code == 200 and (urged.get_json()["note"], urged.get_json()["repeated"]) == ("请今天提交", False)
    again = client.post(f"/api/v1/tasks/{draft['id']}/urge", headers=chen, json={"note": "请今天提交"})
    assert again.get_json()["repeated"] is True
    row = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"][0]
    assert row["urged"] == {"count": 1, "last_at": urged.get_json()["occurred_at"]}
    refused = client.post(f"/api/v1/tasks/{draft['id']}/urge", headers=zhang, json={})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    assert client.post(f"/api/v1/tasks/{draft['id']}/urge", headers=chen, json={"note": 5}).status_code == 422

    stats = client.get("/api/v1/stats?process=mini_approval", headers=chen)
    assert stats.status_code == 200
    [step] = [r for r in stats.get_json()["steps"] if r["element_id"] == "Task_Draft"]
    assert (step["completed"], step["open"]) == (0, 1)
    assert client.get("/api/v1/stats", headers=zhang).status_code == 403
    assert client.get("/api/v1/stats?since=2026-13-01", headers=chen).status_code == 422


# ---------------------------------------------------------------- the document and the trail
def test_the_openapi_document_names_every_route_of_the_api_and_no_other(sqlite_engine):
    app = create_app(engine=sqlite_engine, secret_key="test", testing=True)
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    served = app.test_client().get("/api/v1/openapi.json")  # no token needed: it holds nothing of anyone's
    assert served.status_code == 200 and served.get_json() == document
    prefix = document["servers"][0]["url"]
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix(prefix)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path.replace("<int:", "{").replace(">", "}"), method.lower()))
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert routes == documented
    for path, operations in document["paths"].items():  # each path parameter declared
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == set(part[1:-1] for part in path.split("/") if part.startswith("{")), (path, method)


def test_the_trail_keeps_who_made_and_revoked_which_token_never_its_secret(engine, people):
    made = engine.create_token("zhang", "OA 系统")
    engine.revoke_token("chen", made["id"])
    with engine.db.reader() as s:
        events = [e for e in iter_events(s) if e["event_type"].startswith("token_")]
        assert verify(s).ok
    payloads = [json.loads(e["payload"]) for e in events]
    assert [(e["event_type"], e["actor"], p["username"], p["new"]["name"]) for e, p in zip(events, payloads)] == \
        [("token_created", "zhang", "zhang", "OA 系统"), ("token_revoked", "chen", "zhang", "OA 系统")]
    from engine.trail_text import said
    assert [said({**e, "name": None, "payload": p}, "zh") for e, p in zip(events, payloads)] == \
        ["创建访问令牌 OA 系统（zhang）", "撤销访问令牌 OA 系统（zhang）"]
    with engine.db.reader() as s:
        digest = s.execute(select(ApiToken.secret_sha256)).scalar_one()
    text = json.dumps(events, ensure_ascii=False)
    assert made["secret"] not in text and digest not in text


def _refusals(engine) -> list[dict]:
    with engine.db.reader() as s:
        return [{**e, "payload": json.loads(e["payload"])} for e in iter_events(s) if e["event_type"] == "token_refused"]


def test_a_revoked_or_expired_token_still_sent_goes_on_the_trail_once_per_five_minutes(engine, people, at):
    with at("2026-03-10T09:00"):
        old = engine.create_token("zhang", "OA 系统")
        engine.revoke_token("zhang", old["id"])
        short = engine.create_token("wang", "script", date(2026, 3, 10))
    with at("2026-03-11T09:00"):
        for secret in (old["secret"], old["secret"], short["secret"]):  # a client retrying at once
            with pytest.raises(Unauthorized):
                engine.token_user(secret, address="10.1.2.3")
        with pytest.raises(Unauthorized):
            engine.token_user("rf_" + "x" * 43, address="10.9.9.9")  # names no token: no trace
    with at("2026-03-11T09:04"), pytest.raises(Unauthorized):
        engine.token_user(old["secret"], address="10.1.2.3")
    with at("2026-03-11T09:06"), pytest.raises(Unauthorized):
        engine.token_user(old["secret"], address="10.4.5.6")
    seen = [(e["actor"], e["occurred_at"][:16], e["payload"]["name"], e["payload"]["reason"], e["payload"]["address"])
            for e in _refusals(engine)]
    assert seen == [("zhang", "2026-03-11T01:00", "OA 系统", "revoked", "10.1.2.3"),
                    ("wang", "2026-03-11T01:00", "script", "expired", "10.1.2.3"),
                    ("zhang", "2026-03-11T01:06", "OA 系统", "revoked", "10.4.5.6")]
    assert [t["refused_at"] for t in engine.tokens("zhang")] == ["2026-03-11T01:06:00+00:00"]
    assert engine.tokens("chen", owner="wang")[0]["refused_at"] == "2026-03-11T01:00:00+00:00"
    from engine.trail_text import said
    first = _refusals(engine)[0]
    assert said({**first, "name": None}, "zh") == \
        "拒绝已失效的访问令牌 OA 系统（zhang）（已撤销）"
    assert said({**first, "name": None}, "en") == \
        "refused an access token no longer valid OA 系统 (zhang) (revoked)"
    with engine.db.reader() as s:
        assert verify(s).ok
    assert old["secret"] not in json.dumps(_refusals(engine), ensure_ascii=False)


def test_a_refused_token_s_address_is_the_caller_s_and_its_owner_sees_it_on_the_tokens_page(sqlite_engine, at):
    from tests.conftest import add_people
    add_people(sqlite_engine)
    client = _client(sqlite_engine)
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    with at("2026-03-10T09:00"):
        old = sqlite_engine.create_token("zhang", "OA 系统")
        sqlite_engine.revoke_token("zhang", old["id"])
    with at("2026-03-10T10:30"):
        assert client.get("/api/v1/me", headers=_auth(old["secret"])).status_code == 401
    assert _refusals(sqlite_engine)[0]["payload"]["address"] == "192.0.2.7"
    sqlite_engine.set_password("zhang", "zhang-pass-1", actor="chen")
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data={"username": "zhang", "password": "zhang-pass-1"}).status_code == 302
    shown = client.get("/account/tokens").get_data(as_text=True)
    assert "失效后仍有人使用：2026年3月10日 10:30" in shown


def test_comments_are_added_and_the_trail_is_read_through_the_api(mini):
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "留言方案"}).get_json()
    [draft] = plan["tasks"]
    added = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang,
                        json={"text": "初稿周五前完成", "task_id": draft["id"], "after": 0})
    assert added.status_code == 201, added.get_json()
    comment = added.get_json()
    assert (comment["text"], comment["author"], comment["task_id"], comment["task_name"]) == \
        ("初稿周五前完成", "zhang", draft["id"], draft["name"])
    retried = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang,
                          json={"text": "初稿周五前完成", "task_id": draft["id"], "after": 0})  # the answer was lost
    assert retried.status_code == 200 and retried.get_json() == {**comment, "author_name": "张伟", "repeated": True}
    for bad in ({}, {"text": 5}, {"text": "x", "task_id": "1"}, {"text": "x", "after": True}, {"text": "  "}):
        answer = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang, json=bad)
        assert (answer.status_code, answer.get_json()["error"]) == (422, "invalid"), bad
    shown = client.get(f"/api/v1/plans/{plan['id']}", headers=zhang).get_json()
    assert [c["text"] for c in shown["comments"]] == ["初稿周五前完成"]  # once

    trail = client.get(f"/api/v1/plans/{plan['id']}/history", headers=zhang).get_json()
    assert (trail["id"], trail["title"]) == (plan["id"], "留言方案")
    kinds = [e["event_type"] for e in trail["events"]]
    assert kinds[:2] == ["instance_started", "task_created"] and kinds[-1] == "comment_added"
    assert trail["events"][-1]["said"].startswith("留言") and "初稿周五前完成" in trail["events"][-1]["said"]
    assert [e["seq"] for e in trail["events"]] == sorted(e["seq"] for e in trail["events"])
    english = client.get(f"/api/v1/plans/{plan['id']}/history?lang=en", headers=zhang).get_json()
    assert english["events"][-1]["said"].startswith("comment")

    zhao = _auth(engine.create_token("zhao", "other unit")["secret"])  # may not see the plan: as if none
    assert client.get(f"/api/v1/plans/{plan['id']}/history", headers=zhao).status_code == 404
    assert client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhao, json={"text": "x"}).status_code == 404
    with engine.db.reader() as s:
        assert verify(s).ok


def test_the_office_reads_the_ledger_by_year_through_the_api_others_may_not(mini, at):
    engine = mini
    client = _client(engine)
    chen = _auth(engine.create_token("chen", "dashboard")["secret"])
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    with at("2026-12-30T09:00"):
        old = engine.start("mini_approval", actor="zhang", title="去年的方案")
    with at("2027-01-05T09:00"):
        new = engine.start("mini_approval", actor="zhang", title="今年的方案")
        ledger = client.get("/api/v1/ledger", headers=chen).get_json()
        assert ledger["year"] == 2027  # this year, Beijing time
        assert {(p["id"], p["carried_over"]) for p in ledger["plans"]} == {(old["id"], True), (new["id"], False)}
        last_year = client.get("/api/v1/ledger?year=2026", headers=chen).get_json()
        assert [p["title"] for p in last_year["plans"]] == ["去年的方案"]
        every = client.get("/api/v1/ledger?year=all&colour=green", headers=chen).get_json()
        assert every["year"] is None and {p["colour"] for p in every["plans"]} <= {"green"}
        bad = client.get("/api/v1/ledger?year=last", headers=chen)
        assert (bad.status_code, bad.get_json()["error"]) == (422, "invalid")
        refused = client.get("/api/v1/ledger", headers=zhang)
        assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")


def test_the_ledger_comes_a_page_at_a_time_red_first_with_the_whole_ledger_counted(mini, at):
    """The ledger gave every plan at once: a province's thousand plans in one answer. Now 50 a
    page by default, as /plans, each page saying how many there are in all and by colour."""
    engine = mini
    client = _client(engine)
    chen = _auth(engine.create_token("chen", "dashboard")["secret"])
    with at("2027-03-01T09:00"):  # their drafts, due in 7 days, are overdue by the 20th: red
        late = [engine.start("mini_approval", actor="zhang", title=f"逾期方案{n}")["id"] for n in range(3)]
    with at("2027-03-19T09:00"):
        on_time = [engine.start("mini_approval", actor="zhang", title=f"方案{n}")["id"] for n in range(52)]
    with at("2027-03-20T09:00"):
        first = client.get("/api/v1/ledger", headers=chen).get_json()
        second = client.get(f"/api/v1/ledger?offset={first['offset'] + first['limit']}", headers=chen).get_json()
        small = [client.get(f"/api/v1/ledger?limit=20&offset={n}", headers=chen).get_json() for n in (0, 20, 40)]
        too_many = client.get("/api/v1/ledger?limit=201", headers=chen)
        none = client.get("/api/v1/ledger?limit=0", headers=chen)
        red = client.get("/api/v1/ledger?colour=red&limit=2", headers=chen).get_json()
    assert (first["limit"], first["offset"], first["total"], first["more"]) == (50, 0, 55, True)
    assert len(first["plans"]) == 50 and first["counts"] == {"red": 3, "yellow": 0, "green": 52}
    assert [p["id"] for p in first["plans"][:3]] == late and {p["colour"] for p in first["plans"][:3]} == {"red"}
    assert (second["offset"], second["total"], second["more"], len(second["plans"])) == (50, 55, False, 5)
    assert second["counts"] == first["counts"]  # the whole ledger's, on every page
    everyone = [p["id"] for p in first["plans"] + second["plans"]]
    assert everyone == late + on_time  # each plan once, in the ledger's order
    assert [p["id"] for page in small for p in page["plans"]] == everyone
    assert [page["more"] for page in small] == [True, True, False]
    assert all(step["due_on"] for p in second["plans"] for step in p["current"])
    for refused in (too_many, none):
        assert (refused.status_code, refused.get_json()["error"]) == (422, "invalid")
    assert ([p["id"] for p in red["plans"]], red["total"], red["more"]) == (late[:2], 3, True)


def test_the_inbox_s_due_filters_through_the_api(mini, at):
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    with at("2027-03-01T09:00"):  # a Monday; the draft is due in 7 days
        plan = engine.start("mini_approval", actor="zhang", title="期限方案")
    [draft] = plan["tasks"]

    def listed(when: str, due: str) -> tuple[int, list[int]]:
        with at(when):
            body = client.get(f"/api/v1/tasks?scope=mine&due={due}", headers=zhang).get_json()
        assert body["due"] == due.split("&")[0]
        return body["total"], [t["id"] for t in body["tasks"]]
    assert listed("2027-03-03T09:00", "soon") == (1, [draft["id"]])  # within 5 working days
    assert listed("2027-03-03T09:00", "overdue") == (0, [])
    assert listed("2027-03-10T09:00", "soon") == (0, [])  # past its deadline: overdue, not due soon
    assert listed("2027-03-10T09:00", "overdue") == (1, [draft["id"]])
    assert listed("2027-03-10T09:00", "overdue&step=Task_Draft") == (1, [draft["id"]])  # one element's tasks
    assert listed("2027-03-10T09:00", "overdue&step=Task_Review") == (0, [])
    for bad in ("due=later", "due=soon&scope=done"):
        answer = client.get(f"/api/v1/tasks?{bad}", headers=zhang)
        assert (answer.status_code, answer.get_json()["error"]) == (422, "invalid"), bad


def test_a_draft_through_the_api_and_the_office_urging_several_tasks(sqlite_engine, at):
    """暂存 and 催办所选 as the pages do them: PUT keeps the holder's draft (nobody else's), GET gives
    it back, the submission removes it; the office urges two tasks and is told of a third done."""
    from tests.conftest import add_people
    from tests.plan_helper import deploy_library
    from tests.plan_helper import Plan
    add_people(sqlite_engine)
    deploy_library(sqlite_engine)
    with at("2026-03-02T09:00:00"):
        plans = [Plan(sqlite_engine) for _ in range(3)]
        for plan in plans:
            plan.run_until("Task_DraftPlan")
    tasks = [plan.task("Task_DraftPlan")["id"] for plan in plans]
    client = _client(sqlite_engine)
    zhang = _auth(sqlite_engine.create_token("zhang", "本地")["secret"])
    chen = _auth(sqlite_engine.create_token("chen", "看板")["secret"])
    saved = client.put(f"/api/v1/tasks/{tasks[0]}/draft", json={"values": {"draftSummary": "方案初稿，待补充"},
                                                                "comment": "明天补第三部分"}, headers=zhang)
    assert saved.status_code == 200 and saved.get_json()["draft"]["values"] == {"draftSummary": "方案初稿，待补充"}
    assert client.get(f"/api/v1/tasks/{tasks[0]}/draft", headers=zhang).get_json()["draft"]["comment"] == "明天补第三部分"
    assert client.get(f"/api/v1/tasks/{tasks[0]}/draft", headers=chen).get_json() == {"draft": None}
    refused = client.put(f"/api/v1/tasks/{tasks[0]}/draft", json={"values": {"draftSummary": "x"}}, headers=chen)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    with at("2026-03-02T10:00:00"):
        plans[2].do("Task_DraftPlan")
    urged = client.post("/api/v1/tasks/urge", json={"task_ids": tasks, "note": "请于本周内报送"}, headers=chen)
    assert urged.status_code == 200
    body = urged.get_json()
    assert [u["task_id"] for u in body["urged"]] == tasks[:2]
    assert body["skipped"] == [{"task_id": tasks[2], "name": "起草方案", "reason": "completed"}]
    assert client.post("/api/v1/tasks/urge", json={"task_ids": tasks}, headers=zhang).status_code == 403
    assert client.post("/api/v1/tasks/urge", json={"task_ids": "1,2"}, headers=chen).status_code == 422
    with at("2026-03-02T11:00:00"):
        plans[0].do("Task_DraftPlan")
    assert client.get(f"/api/v1/tasks/{tasks[0]}/draft", headers=zhang).get_json() == {"draft": None}


def test_a_client_keeping_in_step_reads_only_the_newer_events_and_comments(mini):
    """An OA system polling a plan: `after` the newest seq (events) or id (comments) it holds
    answers only what came since, so it neither reads the whole trail each time nor misses any."""
    engine = mini
    client = _client(engine)
    zhang = _auth(engine.create_token("zhang", "OA")["secret"])
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "同步"}).get_json()
    trail = client.get(f"/api/v1/plans/{plan['id']}/history", headers=zhang).get_json()["events"]
    newest = trail[-1]["seq"]
    assert client.get(f"/api/v1/plans/{plan['id']}/history?after={newest}", headers=zhang).get_json()["events"] == []

    first = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang, json={"text": "第一条"}).get_json()
    second = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang, json={"text": "第二条"}).get_json()
    since = client.get(f"/api/v1/plans/{plan['id']}/history?after={newest}", headers=zhang).get_json()["events"]
    assert [e["event_type"] for e in since] == ["comment_added", "comment_added"] and since[0]["seq"] > newest
    listed = client.get(f"/api/v1/plans/{plan['id']}/comments", headers=zhang).get_json()["comments"]
    assert [c["text"] for c in listed] == ["第一条", "第二条"]
    newer = client.get(f"/api/v1/plans/{plan['id']}/comments?after={first['id']}", headers=zhang).get_json()
    assert [c["id"] for c in newer["comments"]] == [second["id"]]
    bad = client.get(f"/api/v1/plans/{plan['id']}/comments?after=-1", headers=zhang)
    assert (bad.status_code, bad.get_json()["error"]) == (422, "invalid")
    zhao = _auth(engine.create_token("zhao", "other unit")["secret"])  # may not see the plan: as if none
    assert client.get(f"/api/v1/plans/{plan['id']}/comments", headers=zhao).status_code == 404


def test_a_client_follows_every_plan_it_may_see_through_one_feed_of_events(mini):
    """An OA system keeping its list of plans in step polled each plan's history one by one. The
    feed gives every visible plan's events in one sequence: page after page with `next_after`,
    nothing twice, nothing missed, nothing of a plan the caller may not see."""
    engine = mini
    client = _client(engine)
    zhao = _auth(engine.create_token("zhao", "OA")["secret"])
    zhang = _auth(engine.create_token("zhang", "a drafter")["secret"])
    chen = _auth(engine.create_token("chen", "office")["secret"])
    mine = [client.post("/api/v1/plans", headers=zhao, json={"key": "mini_approval", "title": t}).get_json()["id"]
            for t in ("甲方案", "乙方案")]
    theirs = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "丙方案"}).get_json()["id"]

    whole = client.get("/api/v1/events?limit=200", headers=zhao).get_json()
    assert whole["more"] is False and {e["instance_id"] for e in whole["events"]} == set(mine)
    seqs = [e["seq"] for e in whole["events"]]
    assert seqs == sorted(seqs) and whole["next_after"] == seqs[-1]
    first = whole["events"][0]
    assert (first["event_type"], first["title"], first["said"]) == (
        "instance_started", "甲方案", client.get(f"/api/v1/plans/{mine[0]}/history", headers=zhao).get_json()["events"][0]["said"])

    paged, after = [], 0
    while True:
        page = client.get(f"/api/v1/events?after={after}&limit=2", headers=zhao).get_json()
        assert len(page["events"]) <= 2
        paged += page["events"]
        after = page["next_after"]
        if not page["more"]:
            break
    assert [e["seq"] for e in paged] == seqs

    client.post(f"/api/v1/plans/{mine[1]}/comments", headers=zhao, json={"text": "进展如何？"})
    client.post(f"/api/v1/plans/{theirs}/comments", headers=zhang, json={"text": "别人的方案"})
    newer = client.get(f"/api/v1/events?after={after}", headers=zhao).get_json()
    assert [(e["instance_id"], e["event_type"]) for e in newer["events"]] == [(mine[1], "comment_added")]
    assert client.get(f"/api/v1/events?after={newer['next_after']}", headers=zhao).get_json() == {
        "after": newer["next_after"], "next_after": newer["next_after"], "more": False, "events": []}

    for who in (zhao, zhang, chen):  # each follows exactly the plans their list shows them
        listed = {p["id"] for p in client.get("/api/v1/plans", headers=who).get_json()["plans"]}
        followed = {e["instance_id"] for e in client.get("/api/v1/events?limit=200", headers=who).get_json()["events"]}
        assert followed == listed
    assert theirs not in {p["id"] for p in client.get("/api/v1/plans", headers=zhao).get_json()["plans"]}
    for bad in ("limit=0", "limit=201", "after=-1", "since=1"):
        refused = client.get(f"/api/v1/events?{bad}", headers=zhao)
        assert (refused.status_code, refused.get_json()["error"]) == (422, "invalid"), bad
