"""Error pages say, in the page's language, what happened and what to do: a form sent after the
session expired changes nothing, a page that does not exist, a file too big."""
from __future__ import annotations

import io

from playwright.sync_api import expect

from .web_helper import sign_in, signed_in_client


def test_a_missing_page_says_so_in_chinese_and_english(live, page):
    sign_in(page, live, "li")
    for path in ("/tasks/99999", "/no-such-page"):  # no such task; no such address: one page
        response = page.goto(f"{live.url}{path}")
        assert response.status == 404
        expect(page.get_by_role("alert")).to_have_text("找不到该页面：它不存在，或您无权查看。")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("alert")).to_contain_text("does not exist")


def test_a_form_sent_without_its_token_changes_nothing(live, page):
    sign_in(page, live, "li")
    engine = live.app.extensions["reformflow"]
    with engine.db.reader() as s:
        from engine.queries import list_tasks
        task = list_tasks(s, "li", "claimable")[0]
    page.evaluate("id => { const f = document.querySelector(`tr[data-task='${id}'] form`);"
                  " f.querySelector('[name=csrf_token]').value = 'stale'; f.submit(); }", task["id"])
    expect(page.locator("h1")).to_have_text("页面已过期，未做任何更改")
    assert engine.task_view(task["id"])["status"] == "open"


def test_an_upload_over_the_limit_is_refused_with_advice(demo_engine):
    client = signed_in_client(demo_engine, "li")
    with demo_engine.db.reader() as s:
        from engine.queries import list_tasks
        task = list_tasks(s, "li", "claimable")[0]  # one li may see: the size is what is refused
    response = client.post(f"/tasks/{task['id']}/complete", data={"files": (io.BytesIO(b"x" * (26 * 1024 * 1024)), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "上传的文件太大" in response.get_data(as_text=True)
