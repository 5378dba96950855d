"""A greyed row (a revoked token, a deactivated user) is still legible (WCAG 1.4.3: 4.5:1), and the
改派 choice fits a 320 px wide screen (1.4.10: no sideways scrolling for the form)."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from models import HumanTask

from .web_helper import sign_in


def test_a_revoked_token_s_row_passes_the_contrast_check(live, page):
    engine = live.app.extensions["reformflow"]
    token = engine.create_token("chen", "旧系统")
    engine.revoke_token("chen", token["id"])
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/account/tokens")
    assert page.locator(f"tr.inactive[data-token='{token['id']}']").count() == 1
    found = Axe().run(page, options={"runOnly": ["color-contrast"]}).response["violations"]
    assert found == []


def test_the_assign_choice_fits_a_320_px_screen_on_every_open_step(live, browser):
    engine = live.app.extensions["reformflow"]
    with engine.db.reader() as s:
        ids = s.execute(select(HumanTask.id).where(HumanTask.status.in_(("open", "claimed")))).scalars().all()
    context = browser.new_context(locale="zh-CN", viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        sign_in(page, live, "chen")
        too_wide = {}
        for task_id in ids:
            page.goto(f"{live.url}/tasks/{task_id}")
            if page.locator("#assign-to").count():
                right = page.evaluate("document.getElementById('assign-to').getBoundingClientRect().right")
                if right > 320:
                    too_wide[task_id] = right
        assert too_wide == {}
    finally:
        context.close()
