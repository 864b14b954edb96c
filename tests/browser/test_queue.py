"""The officer's work queue in a real browser: an overdue application stands out in red."""
from datetime import timedelta

from app.entities.base import utcnow
from app.extensions import db

from ..factories import PASSWORD
from ..services.test_response_clock import application_of

RED = "rgb(180, 35, 24)"  # --bad in app.css


def test_an_overdue_application_is_red_in_the_officers_queue(world, page):
    world["application"].status = "declined"
    application_of(world, submitted=utcnow() - timedelta(days=20))
    application_of(world, submitted=utcnow())
    db.session.commit()
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(f"{page.base}/lender/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    overdue = rows.nth(0).locator(".overdue")
    assert overdue.is_visible() and overdue.inner_text().startswith("已超时")
    assert overdue.evaluate("e => getComputedStyle(e).color") == RED
    assert rows.nth(1).locator(".overdue").count() == 0
    assert "办理时限" in page.locator("table.queue thead").inner_text()
    assert page.outside_requests == []
