"""What a client written from docs/api.md and web/openapi.json alone met: a task's form typed as
JSON (a required field `true`, numbers as numbers, an expression marked as one), the Beijing date
of each deadline beside its instant, a task read alone saying what its inbox row says, 409s a
program can tell apart, the reform office's assign and stop, the processes one may start, and
the list endpoints refusing what they do not know."""
from __future__ import annotations

import io

import pytest

from engine.errors import Forbidden
from web import create_app

from .conftest import FIXTURES

MINI = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
# the drafting step's form with the kinds of field a client met: a boolean with a default, a
# date bounded by an expression; the review's reason required when returning, its return confirmed
TYPED = MINI.replace(
    """          <camunda:formField id="days" label="征求意见天数" type="long" defaultValue="30">""",
    """          <camunda:formField id="urgent" label="是否紧急" type="boolean" defaultValue="false" />
          <camunda:formField id="meetingDate" label="会议日期" type="date">
            <camunda:validation>
              <camunda:constraint name="max" config="${today()}" />
            </camunda:validation>
          </camunda:formField>
          <camunda:formField id="days" label="征求意见天数" type="long" defaultValue="30">""").replace(
    """            <camunda:value id="return" name="退回" />""",
    """            <camunda:value id="return" name="退回" />
            <camunda:properties>
              <camunda:property id="confirm" value="return" />
            </camunda:properties>""").replace(
    """          <camunda:formField id="returnReason" label="退回理由" type="string" />""",
    """          <camunda:formField id="returnReason" label="退回理由" type="string">
            <camunda:properties>
              <camunda:property id="requiredWhen" value="${decision == 'return'}" />
            </camunda:properties>
          </camunda:formField>""")
assert TYPED.count("formField") > MINI.count("formField")


def _client(engine):
    return create_app(engine=engine, secret_key="test", testing=True).test_client()


def _auth(engine, user: str) -> dict:
    return {"Authorization": f"Bearer {engine.create_token(user, 'OA')['secret']}"}


@pytest.fixture
def typed(engine, people):
    engine.deploy([("mini_approval.bpmn", TYPED.encode())])
    return engine


def test_a_task_s_form_is_typed_for_a_client(typed, at):
    client, zhang = _client(typed), _auth(typed, "zhang")
    with at("2026-11-03T10:00"):
        client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "表单"})
        [row] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
        view = client.get(f"/api/v1/tasks/{row['id']}", headers=zhang).get_json()
    for form in (row["form"], view["form"]):
        fields = {f["id"]: f for f in form}
        assert fields["summary"]["constraints"] == {"required": True, "maxlength": 200}
        assert fields["days"]["constraints"] == {"min": 7} and fields["days"]["default"] == 30
        assert fields["urgent"]["default"] is False
        assert fields["meetingDate"]["constraints"] == {"max": {"expression": "${today()}"}}
    assert view["bounds"]["meetingDate"] == {"max": "2026-11-03"}  # what the expression comes to now
    assert view["values"]["urgent"] is False


def test_the_web_task_page_still_reads_the_diagram_s_form(typed, at):
    """The API's typing is its own: the web page's required marks and date range stay."""
    app = create_app(engine=typed, secret_key="test", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    typed.set_password("zhang", "zhang-pass-1", actor="chen")
    client = app.test_client()
    with at("2026-11-03T10:00"):
        typed.start("mini_approval", actor="zhang", title="表单")
        client.post("/login", data={"username": "zhang", "password": "zhang-pass-1"})
        api = _client(typed).get("/api/v1/tasks?scope=mine", headers=_auth(typed, "zhang")).get_json()
        page = client.get(f"/tasks/{api['tasks'][0]['id']}").get_data(as_text=True)
    assert 'name="summary"' in page and "required" in page and 'max="2026-11-03"' in page


def test_a_deadline_s_beijing_date_is_given_beside_its_instant(typed, at):
    client, zhang, chen = _client(typed), _auth(typed, "zhang"), _auth(typed, "chen")
    with at("2026-11-03T00:00"):  # seven days on: midnight in Beijing, the end of 9 November
        client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "期限"})
        [row] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
        view = client.get(f"/api/v1/tasks/{row['id']}", headers=zhang).get_json()
        ledger = client.get("/api/v1/ledger", headers=chen).get_json()
    assert row["due_at"] == "2026-11-09T16:00:00+00:00"  # a Beijing date of it would be the 10th
    assert row["due_on"] == view["due_on"] == "2026-11-09"
    [step] = [s for p in ledger["plans"] for s in p["current"]]
    assert step["due_on"] == "2026-11-09"


def test_a_task_read_alone_says_what_its_inbox_row_says(typed, at):
    client, zhang, chen, li = _client(typed), _auth(typed, "zhang"), _auth(typed, "chen"), _auth(typed, "li")
    client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "一致"})
    [row] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    client.post(f"/api/v1/tasks/{row['id']}/urge", headers=chen, json={})
    [row] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    view = client.get(f"/api/v1/tasks/{row['id']}", headers=zhang).get_json()
    for name in ("overdue", "urged", "may_claim", "on_behalf_of", "due_on"):
        assert view[name] == row[name], name
    assert view["urged"]["count"] == 1
    draft = client.get(f"/api/v1/tasks/{row['id']}", headers=zhang).get_json()
    client.post(f"/api/v1/tasks/{row['id']}/complete", headers=zhang,
                json={"data": {"summary": "好"}, "version": draft["version"]})
    [review] = client.get("/api/v1/tasks?scope=claimable", headers=li).get_json()["tasks"]
    alone = client.get(f"/api/v1/tasks/{review['id']}", headers=li).get_json()
    assert review["may_claim"] is True and alone["may_claim"] is True
    returned = {f["id"]: f for f in alone["form"]}
    assert returned["returnReason"]["properties"] == {"requiredWhen": "${decision == 'return'}"}


def test_a_409_says_its_reason_and_the_task_as_it_is_now(typed):
    client, zhang, li, wang = _client(typed), _auth(typed, "zhang"), _auth(typed, "li"), _auth(typed, "chen")
    client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "重试"})
    [draft] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    done = client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhang,
                       json={"data": {"summary": "好"}, "version": draft["version"]})
    again = client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhang,
                        json={"data": {"summary": "好"}, "version": draft["version"]})  # its answer was lost
    assert again.status_code == 409
    body = again.get_json()
    assert (body["reason"], body["status"], body["assignee"], body["version"]) == \
        ("already_yours", "completed", "zhang", done.get_json()["version"])
    other = client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhang,  # another window's values
                        json={"data": {"summary": "另一稿"}, "version": draft["version"]})
    assert (other.status_code, other.get_json()["reason"]) == (409, "already_yours_differs")
    assert [(d["field"], d["code"]) for d in other.get_json()["details"]] == [("summary", "differs")]
    assert "was NOT saved" in client.post(f"/api/v1/tasks/{draft['id']}/complete?lang=en", headers=zhang, json={
        "data": {"summary": "另一稿"}, "version": draft["version"]}).get_json()["message"]
    [review] = client.get("/api/v1/tasks?scope=claimable", headers=li).get_json()["tasks"]
    first = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=li, json={"version": review["version"]})
    retried = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=li, json={"version": review["version"]})
    assert (retried.status_code, retried.get_json()["reason"]) == (409, "already_yours")
    assert retried.get_json()["version"] == first.get_json()["version"]
    chen = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=wang, json={})
    assert (chen.status_code, chen.get_json()["reason"], chen.get_json()["assignee"]) == (409, "taken", "li")
    stale = client.post(f"/api/v1/tasks/{review['id']}/complete", headers=li,
                        json={"data": {"decision": "approve"}, "version": review["version"]})
    assert stale.get_json()["reason"] == "stale"
    client.post(f"/api/v1/tasks/{review['id']}/complete", headers=li,
                json={"data": {"decision": "approve"}, "version": first.get_json()["version"]})
    late = client.post(f"/api/v1/tasks/{review['id']}/claim", headers=wang, json={})
    assert (late.get_json()["reason"], late.get_json()["status"]) == ("done", "completed")


def test_a_start_retried_with_its_business_key_finds_its_plan_and_others_learn_nothing(typed):
    client, zhang, zhao = _client(typed), _auth(typed, "zhang"), _auth(typed, "zhao")
    first = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "business_key": "DT-9"})
    again = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "business_key": "DT-9"})
    assert again.status_code == 409
    assert (again.get_json()["reason"], again.get_json()["instance_id"]) == ("business_key_used", first.get_json()["id"])
    assert client.get(f"/api/v1/plans/{first.get_json()['id']}", headers=zhao).status_code == 404
    other = client.post("/api/v1/plans", headers=zhao, json={"key": "mini_approval", "business_key": "DT-9"})
    assert other.status_code == 409 and "instance_id" not in other.get_json()  # that plan is not named


def test_the_same_file_sent_again_is_the_first(typed):
    from . import file_samples
    client, zhang = _client(typed), _auth(typed, "zhang")
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval"}).get_json()
    [draft] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    content = file_samples.pdf("方案稿")
    sent = [client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                        data={"file": (io.BytesIO(content), "方案稿.pdf")}) for _ in range(2)]
    assert [a.status_code for a in sent] == [201, 200]
    assert sent[1].get_json()["repeated"] is True and sent[1].get_json()["id"] == sent[0].get_json()["id"]
    assert len(client.get(f"/api/v1/plans/{plan['id']}/files", headers=zhang).get_json()["files"]) == 1


def test_the_office_assigns_a_task_and_stops_a_plan_through_the_api(typed):
    client, zhang, chen, li = _client(typed), _auth(typed, "zhang"), _auth(typed, "chen"), _auth(typed, "li")
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "指派"}).get_json()
    [draft] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhang, json={"data": {"summary": "好"},
                                                                              "version": draft["version"]})
    [review] = client.get("/api/v1/tasks?scope=claimable", headers=li).get_json()["tasks"]
    refused = client.post(f"/api/v1/tasks/{review['id']}/assign", headers=li, json={"to": "li"})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    given = client.post(f"/api/v1/tasks/{review['id']}/assign", headers=chen,
                        json={"to": "li", "version": review["version"]})
    assert given.status_code == 200, given.get_json()
    assert (given.get_json()["assignee"], given.get_json()["status"]) == ("li", "claimed")
    held = client.post(f"/api/v1/tasks/{review['id']}/assign", headers=chen, json={"to": "chen"})
    assert (held.status_code, held.get_json()["reason"], held.get_json()["assignee"]) == (409, "taken", "li")

    assert client.post(f"/api/v1/plans/{plan['id']}/stop", headers=li, json={"reason": "x"}).status_code == 403
    assert client.post(f"/api/v1/plans/{plan['id']}/stop", headers=chen, json={}).status_code == 422
    stopped = client.post(f"/api/v1/plans/{plan['id']}/stop", headers=chen, json={"reason": "并入另一方案"})
    assert stopped.status_code == 200, stopped.get_json()
    assert stopped.get_json()["status"] == "cancelled"
    assert [t["task_id"] for t in stopped.get_json()["withdrawn"]] == [review["id"]]
    again = client.post(f"/api/v1/plans/{plan['id']}/stop", headers=chen, json={"reason": "并入另一方案"})
    assert (again.status_code, again.get_json()["reason"]) == (409, "stopped")
    zhao = _auth(typed, "zhao")
    assert client.post(f"/api/v1/plans/{plan['id']}/stop", headers=zhao, json={"reason": "x"}).status_code == 404


# the office's own process, with a start form
OFFICE_ONLY = MINI.replace("mini_approval", "office_review").replace(
    'name="简易审批"', 'name="改革办审查" camunda:candidateStarterGroups="reform_office"').replace(
    """<bpmn:startEvent id="StartEvent_1" name="提交" camunda:initiator="initiator">""",
    """<bpmn:startEvent id="StartEvent_1" name="提交" camunda:initiator="initiator">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="rounds" label="轮次" type="long" defaultValue="1">
            <camunda:validation>
              <camunda:constraint name="required" />
              <camunda:constraint name="min" config="1" />
            </camunda:validation>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>""")


def test_the_processes_one_may_start_with_their_start_forms(typed):
    typed.deploy([("office_review.bpmn", OFFICE_ONLY.encode())])
    client, zhang, chen = _client(typed), _auth(typed, "zhang"), _auth(typed, "chen")
    listed = client.get("/api/v1/processes", headers=zhang)
    assert listed.status_code == 200
    assert [(p["key"], p["name"], p["form"]) for p in listed.get_json()["processes"]] == \
        [("mini_approval", "简易审批", [])]
    office = {p["key"]: p for p in client.get("/api/v1/processes", headers=chen).get_json()["processes"]}
    [rounds] = office["office_review"]["form"]
    assert (rounds["id"], rounds["constraints"], rounds["default"]) == ("rounds", {"required": True, "min": 1}, 1)
    unknown = client.post("/api/v1/plans?lang=en", headers=zhang, json={"key": "no_such_process"})
    assert unknown.status_code == 404
    assert "reformflow" not in unknown.get_json()["message"] and "/api/v1/processes" in unknown.get_json()["message"]


def test_plans_page_as_tasks_do_and_an_unknown_parameter_is_refused(typed):
    client, zhang = _client(typed), _auth(typed, "zhang")
    started = [client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": f"方案{n}"})
               .get_json()["id"] for n in range(3)]
    page = client.get("/api/v1/plans?limit=2&offset=1", headers=zhang).get_json()
    assert (page["limit"], page["offset"], page["total"], page["more"]) == (2, 1, 3, False)
    assert [p["id"] for p in page["plans"]] == started[::-1][1:]  # newest first
    assert client.get("/api/v1/plans?page=1", headers=zhang).get_json()["total"] == 3
    assert [t["due_on"] for t in page["plans"][0]["tasks"]] == [page["plans"][0]["tasks"][0]["due_on"]]
    for path in ("/api/v1/ledger?color=red", "/api/v1/tasks?scop=mine", "/api/v1/plans?stauts=running"):
        refused = client.get(path + "&lang=en", headers=_auth(typed, "chen"))
        assert (refused.status_code, refused.get_json()["error"]) == (422, "invalid"), path
        assert path.split("?")[1].split("=")[0] in refused.get_json()["message"]


def test_put_draft_answers_as_get_does_and_a_file_over_20_mb_is_413(typed):
    client, zhang = _client(typed), _auth(typed, "zhang")
    client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval"})
    [draft] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]
    put = client.put(f"/api/v1/tasks/{draft['id']}/draft", headers=zhang, json={"values": {"summary": "草"}})
    assert put.get_json() == client.get(f"/api/v1/tasks/{draft['id']}/draft", headers=zhang).get_json()
    assert put.get_json()["draft"]["values"] == {"summary": "草"}
    big = client.post(f"/api/v1/tasks/{draft['id']}/files", headers=zhang,
                      data={"file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)), "大.pdf")})
    assert (big.status_code, big.get_json()["error"]) == (413, "invalid")


def test_full_width_search_and_a_hidden_character_in_a_title(typed):
    client, zhang = _client(typed), _auth(typed, "zhang")
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "关于（试行）的方案",
                                                             "business_key": "DT-2015"}).get_json()
    for q in ("ＤＴ-２０１５", "dt-2015", "（试行）"):
        assert client.get(f"/api/v1/tasks?q={q}", headers=zhang).get_json()["total"] == 1, q
        assert client.get(f"/api/v1/plans?q={q}", headers=zhang).get_json()["total"] == 1, q
    for title in ("报告\u202egpj.exe", "方案\u200b", "上\u2066下"):
        refused = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": title})
        assert refused.status_code == 422 and "U+" in refused.get_json()["message"], title
    comment = client.post(f"/api/v1/plans/{plan['id']}/comments", headers=zhang, json={"text": "好\u202e的"})
    assert comment.status_code == 422  # as a comment already was


def test_the_web_s_inbox_and_plans_list_find_full_width_text_as_the_api_does(typed):
    app = create_app(engine=typed, secret_key="test", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    typed.set_password("zhang", "zhang-pass-1", actor="chen")
    typed.start("mini_approval", actor="zhang", title="数字政府方案", business_key="DT-2015")
    client = app.test_client()
    client.post("/login", data={"username": "zhang", "password": "zhang-pass-1"})
    assert "数字政府方案" in client.get("/tasks?q=ＤＴ-２０１５").get_data(as_text=True)
    assert "数字政府方案" in client.get("/plans?q=ＤＴ-２０１５").get_data(as_text=True)


def test_who_may_is_answered_before_what_was_sent(typed):
    """A request on a task one may not see is 404 and one a caller may not make is 403, whatever
    its body holds: the 422 saying what to send is for those who may act (web/api.py `_act`)."""
    from engine.urging import urge_many
    from engine.visibility import AUDITOR_GROUP
    client = _client(typed)
    zhang, chen, zhao = (_auth(typed, user) for user in ("zhang", "chen", "zhao"))
    plan = client.post("/api/v1/plans", headers=zhang, json={"key": "mini_approval", "title": "次序"}).get_json()
    [draft] = client.get("/api/v1/tasks?scope=mine", headers=zhang).get_json()["tasks"]

    def status(path, who, **sent):
        answer = client.post(f"/api/v1{path}", headers=who, **sent)
        return answer.status_code, answer.get_json()["error"]
    task = f"/tasks/{draft['id']}"
    # zhao may not see zhang's plan: as if it did not exist, however wrong the body
    for path, sent in ((f"{task}/assign", {"json": {}}), (f"{task}/complete", {"json": {"data": []}}),
                       (f"{task}/urge", {"json": {"note": 5}}), (f"{task}/files", {"data": {}}),
                       (f"{task}/claim", {"data": "not json", "content_type": "application/json"})):
        assert status(path, zhao, **sent) == (404, "not_found"), path
    assert client.put(f"/api/v1{task}/draft", headers=zhao, json={"comment": 5}).status_code == 404
    # zhang sees the plan but is not the reform office: assign, urge and stop are 403
    assert status(f"{task}/assign", zhang, json={}) == (403, "forbidden")
    assert status(f"{task}/urge", zhang, json={"note": 5}) == (403, "forbidden")
    assert status("/tasks/urge", zhang, json={"task_ids": []}) == (403, "forbidden")
    assert status("/tasks/urge", zhang, json={"task_ids": "1,2"}) == (403, "forbidden")
    assert status(f"/plans/{plan['id']}/stop", zhang, json={}) == (403, "forbidden")
    with pytest.raises(Forbidden):  # the engine asks who first too (the command line, the web page)
        urge_many(typed, [], actor="zhang")
    # the office sees the draft but does not hold it: completing, saving a draft, attaching are 403
    assert status(f"{task}/complete", chen, json={"data": []}) == (403, "forbidden")
    assert client.put(f"/api/v1{task}/draft", headers=chen, json={"comment": 5}).status_code == 403
    assert status(f"{task}/files", chen, data={}) == (403, "forbidden")
    # an auditor reads the plan but adds nothing to it
    typed.add_group(AUDITOR_GROUP, "审计")
    typed.add_user("qian", "钱审", groups=[AUDITOR_GROUP])
    assert status(f"/plans/{plan['id']}/comments", _auth(typed, "qian"), json={"text": 5}) == (403, "forbidden")
    # those who may act are told what to send
    assert status(f"{task}/assign", chen, json={}) == (422, "invalid")
    assert status("/tasks/urge", chen, json={"task_ids": []}) == (422, "invalid")
    assert status(f"/plans/{plan['id']}/stop", chen, json={}) == (422, "invalid")
    assert status(f"{task}/complete", zhang, json={"data": []}) == (422, "invalid")
    assert client.put(f"/api/v1{task}/draft", headers=zhang, json={"comment": 5}).status_code == 422
    assert status(f"{task}/files", zhang, data={}) == (422, "invalid")
    assert status(f"/plans/{plan['id']}/comments", zhang, json={"text": 5}) == (422, "invalid")
