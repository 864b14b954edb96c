"""The regulator's compliance page and lender scoreboard in a real browser: a flag acknowledged with a note,
the scoreboard's table rendered; screenshots are kept under test-artefacts/browser/ (not committed)."""
from datetime import timedelta
from pathlib import Path

from app.entities.base import utcnow
from app.extensions import db
from app.services import compliance_checks

from ..factories import PASSWORD
from ..services.test_response_clock import application_of

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


def test_the_regulator_acknowledges_a_flag_and_reads_the_scoreboard(world, page):
    application_of(world, submitted=utcnow() - timedelta(days=20))
    application_of(world, status="declined", decided=utcnow())
    compliance_checks.run(db.session)
    db.session.commit()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "regulator")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    page.click("nav.nav >> text=合规监测")
    rows = page.locator("main table").nth(1).locator("tbody tr")
    assert rows.count() == 2
    page.screenshot(path=str(ARTEFACTS / "regulator-compliance.png"), full_page=True)
    rows.nth(0).locator("textarea[name=note]").fill("已约谈该行")
    rows.nth(0).locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "已确认处理该标记" in page.inner_text("main") or "已确认处理该标记" in page.content()
    assert page.locator("main table").nth(1).locator("tbody tr").count() == 1
    page.click("nav.nav >> text=机构评价")
    table = page.locator("main table")
    assert table.locator("tbody tr").count() == 2 and world["bank_a"].name in table.inner_text()
    page.screenshot(path=str(ARTEFACTS / "regulator-scoreboard.png"), full_page=True)
    assert page.outside_requests == []
