"""QA auditor finding 12: the auditor's role is read-only — no comment on a plan in the engine, the
web inbox or the API (403, a Chinese refusal saying what to do, nothing written) — and anchoring the
trail is the auditor's or the reform office's, nobody else's."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine import audit
from engine.cli import main
from engine.errors import Forbidden
from models import AuditEvent, Comment

from .conftest import FIXTURES, read
from .web_helper import page_text, plan_id, signed_in_client


def _count(engine, what) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(what)).scalar_one()


def _anchors(engine) -> list[str]:
    with engine.db.reader() as s:
        return s.execute(select(AuditEvent.actor).where(AuditEvent.event_type == "audit_anchored")
                         .order_by(AuditEvent.seq)).scalars().all()


@pytest.fixture
def with_auditor(engine, people):
    engine.add_group("auditor", "审计")
    engine.add_user("feng", "冯敏", groups=["auditor"], unit="市审计局")
    engine.add_user("gao", "高远", groups=["auditor", "reform_office"], unit="市委改革办")
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    return engine.start("mini_approval", actor="zhang", title="审计方案")["id"]


def test_an_auditor_may_not_comment_and_nothing_is_written(engine, with_auditor):
    comments, events = _count(engine, Comment), _count(engine, AuditEvent)
    with pytest.raises(Forbidden, match="审计人员只能查阅方案，不能留言；如需说明情况，请联系改革办"):
        engine.comment(with_auditor, "审计意见", actor="feng")
    assert (_count(engine, Comment), _count(engine, AuditEvent)) == (comments, events)
    # in the reform office too, they comment as the office does
    assert engine.comment(with_auditor, "改革办批注", actor="gao")["text"] == "改革办批注"
    assert engine.comment(with_auditor, "起草说明", actor="zhang")["text"] == "起草说明"


def test_only_an_auditor_or_the_reform_office_anchors(engine, with_auditor, monkeypatch):
    def anchor(*args, code=0):
        result = CliRunner().invoke(main, ["--db", engine.db.url, "audit", "anchor", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output + result.stderr
        return result
    with monkeypatch.context() as m:  # refused before the chain is walked: nobody waits a minute for it
        m.setattr(audit, "verify", lambda *a, **k: pytest.fail("verified before refusing"))
        refused = anchor("--as", "zhang", code=4)
    assert refused.stderr.startswith("reformflow: forbidden: 只有审计人员和改革办可以记录审计锚点；请以审计人员的用户名 --as 办理")
    assert _anchors(engine) == []
    assert json.loads(anchor("--as", "feng").stdout)["seq"]
    assert json.loads(anchor("--as", "chen").stdout)["seq"]
    assert _anchors(engine) == ["feng", "chen"]


def test_the_auditor_sees_no_comment_box_and_a_posted_comment_is_refused_403(demo_engine):
    plan = plan_id(demo_engine, "DT-2015-04")
    feng = signed_in_client(demo_engine, "feng")
    page = page_text(feng.get(f"/plans/{plan}"))
    assert "审计人员只能查阅方案，不能留言；如需说明情况，请联系改革办。" in page
    assert 'name="plan-comment"' not in feng.get(f"/plans/{plan}").get_data(as_text=True)
    before = _count(demo_engine, Comment)
    refused = feng.post(f"/plans/{plan}/comments", data={"plan-comment": "审计意见"})
    assert refused.status_code == 403
    assert "审计人员只能查阅方案，不能留言；如需说明情况，请联系改革办" in page_text(refused)
    assert _count(demo_engine, Comment) == before
    english = signed_in_client(demo_engine, "feng", language="en").get(f"/plans/{plan}")
    assert "Auditors read plans and add nothing to them" in page_text(english)


def test_the_api_refuses_an_auditors_comment_403(demo_engine):
    plan = plan_id(demo_engine, "DT-2015-04")
    client = signed_in_client(demo_engine, "feng").application.test_client()
    headers = {"Authorization": f"Bearer {demo_engine.create_token('feng', 'audit script')['secret']}"}
    before = _count(demo_engine, Comment)
    refused = client.post(f"/api/v1/plans/{plan}/comments", headers=headers, json={"text": "审计意见"})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "forbidden"
    assert refused.get_json()["message"].startswith("审计人员只能查阅方案，不能留言")
    assert _count(demo_engine, Comment) == before
