"""An access token outlives the web session that made it (sign-out and a password change end
sessions, not tokens). So making one asks for the current password, as a new password does, and
the reform office's reset of a password (taking an account back) revokes its tokens too. Found
by a penetration test: a browser left signed in minted a token that survived the reset."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.demo import PASSWORD
from engine.errors import Forbidden
from models import AuditEvent, SignInFailure

from .web_helper import signed_in_client


def _api_me(client, secret: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code


def test_a_token_is_made_only_with_the_current_password(demo_engine):
    with pytest.raises(Forbidden, match="当前密码不正确，令牌未创建"):
        demo_engine.create_token("zhou", "persist", current_password="not-the-password")
    assert demo_engine.tokens("zhou") == []

    client = signed_in_client(demo_engine, "zhou")
    refused = client.post("/account/tokens", data={"name": "persist", "current_password": ""})
    assert "当前密码不正确，令牌未创建" in refused.get_data(as_text=True) and demo_engine.tokens("zhou") == []
    with demo_engine.db.reader() as s:  # a wrong password counts as a failed sign-in
        assert s.execute(select(SignInFailure.username)).scalars().all() == ["zhou"]
    made = client.post("/account/tokens", data={"name": "persist", "current_password": PASSWORD})
    assert made.status_code == 200 and [t["name"] for t in demo_engine.tokens("zhou")] == ["persist"]


def test_the_office_resetting_a_password_revokes_the_account_s_tokens_a_change_of_one_s_own_does_not(demo_engine):
    stolen = demo_engine.create_token("zhou", "persist")
    kept = demo_engine.create_token("li", "OA 系统")
    client = signed_in_client(demo_engine, "chen")
    assert _api_me(client, stolen["secret"]) == 200

    answer = client.post("/people/zhou/password", data={"new_password": "Reset-by-office-1",
                                                        "new_password_again": "Reset-by-office-1"},
                         follow_redirects=True)
    assert "其 1 个访问令牌已一并撤销" in answer.get_data(as_text=True)
    assert _api_me(client, stolen["secret"]) == 401
    assert [t["state"] for t in demo_engine.tokens("zhou")] == ["revoked"]
    with demo_engine.db.reader() as s:
        revoked = s.execute(select(AuditEvent).where(AuditEvent.event_type == "token_revoked")).scalars().all()
    assert [(e.actor, json.loads(e.payload)["reason"]) for e in revoked] == [("chen", "password_reset")]

    demo_engine.set_password("li", "Li-new-password-1", actor="li", current_password=PASSWORD)
    assert _api_me(client, kept["secret"]) == 200  # her own change: her OA keeps working
