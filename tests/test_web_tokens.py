"""Access tokens in a real browser (docs/users.md section 11, docs/api.md): a person makes one on
/account/tokens, sees its secret once, another system uses it against the live server's
/api/v1, and once it is revoked on the page the API refuses it (401)."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from engine.demo import PASSWORD

from .web_helper import sign_in


def _me(live, secret: str) -> tuple[int, dict, str]:
    """GET /api/v1/me as another system sends it: only the bearer token, no cookie."""
    request = urllib.request.Request(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("WWW-Authenticate", "")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read()), refused.headers.get("WWW-Authenticate", "")


def test_a_token_made_on_the_page_opens_the_api_until_it_is_revoked(live, page):
    sign_in(page, live, "zhang")
    page.get_by_role("link", name="账户设置").click()
    expect(page.locator("dl.account")).to_contain_text("有效的令牌：0 个。")
    page.get_by_role("link", name="访问令牌").click()
    expect(page.locator("h1")).to_have_text("访问令牌")
    expect(page.locator("main")).to_contain_text("您还没有访问令牌。")
    page.get_by_label("名称").fill("OA 系统")
    page.get_by_label("当前密码").fill("wrong-password")  # a browser left signed in is not enough
    page.get_by_role("button", name="创建令牌").click()
    expect(page.get_by_role("alert")).to_contain_text("当前密码不正确，令牌未创建")
    expect(page.locator("main")).to_contain_text("您还没有访问令牌。")
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_role("button", name="创建令牌").click()

    expect(page.get_by_role("status")).to_contain_text("已创建访问令牌「OA 系统」")
    secret = page.get_by_role("textbox", name="密钥").input_value()
    assert re.fullmatch(r"rf_[A-Za-z0-9_-]{43}", secret), secret
    expect(page.locator("main")).to_contain_text("密钥只显示这一次")
    row = page.locator("table.tokens tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("OA 系统")
    expect(row).to_contain_text("有效")
    expect(row).to_contain_text("长期有效")
    expect(row.locator("td.last-used")).to_have_text("从未使用")

    status, me, _ = _me(live, secret)
    assert (status, me["username"], me["display_name"], me["token"]["name"]) == (200, "zhang", "张伟", "OA 系统")

    page.goto(f"{live.url}/account/tokens")  # shown once: the page again has the token, not its secret
    expect(page.get_by_role("textbox", name="密钥")).to_have_count(0)
    expect(page.locator("table.tokens tbody tr")).to_have_count(1)
    assert secret not in page.content()
    # the call above is its last use, as a date and minute (Beijing time)
    expect(page.locator("table.tokens td.last-used")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$"))

    page.get_by_role("button", name="撤销此令牌 OA 系统").click()
    expect(page.get_by_role("status")).to_contain_text("已撤销访问令牌「OA 系统」")
    expect(page.locator("table.tokens tbody tr")).to_contain_text("已作废")
    expect(page.get_by_role("button", name="撤销此令牌 OA 系统")).to_have_count(0)

    status, refusal, challenge = _me(live, secret)
    assert (status, refusal["error"]) == (401, "unauthorized")
    assert refusal["message"] == "访问令牌「OA 系统」已撤销" and challenge.startswith('Bearer realm="reformflow"')


def test_the_page_in_english_and_a_name_refused(live, page):
    sign_in(page, live, "li")
    page.goto(f"{live.url}/account/tokens")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Access tokens")
    page.get_by_label("Name").fill("   ")  # blanks only: the browser sends it, the engine refuses it
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("Valid through (that day included; optional)").fill("2099-12-31")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the token's name")
    expect(page.get_by_label("Valid through (that day included; optional)")).to_have_value("2099-12-31")
    page.get_by_label("Name").fill("dashboard")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("status")).to_contain_text("Access token “dashboard” created.")
    expect(page.locator("table.tokens tbody tr")).to_contain_text("2099-12-31")
    expect(page.locator("main")).to_contain_text("It is shown this once only")


def test_the_office_sees_a_users_tokens_on_their_page_and_revokes_one(live, page):
    engine = live.app.extensions["reformflow"]
    secret = engine.create_token("zhang", "旧 OA")["secret"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/people/li")
    expect(page.locator("section.person-tokens")).to_contain_text("此人没有访问令牌。")
    page.goto(f"{live.url}/people/zhang")
    tokens = page.locator("section.person-tokens")
    expect(tokens.locator("tbody tr")).to_contain_text("旧 OA")
    assert secret not in page.content()  # the office sees the token, never its secret
    tokens.get_by_role("button", name="撤销此令牌 旧 OA").click()
    expect(page).to_have_url(f"{live.url}/people/zhang")  # back on the person's page
    expect(page.get_by_role("status")).to_contain_text("已撤销访问令牌「旧 OA」")
    expect(page.locator("section.person-tokens tbody tr")).to_contain_text("已作废")
    assert _me(live, secret)[0] == 401
