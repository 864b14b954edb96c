"""The regulator's lists and queues in a real browser: the objection queue with an overdue objection in red, the
repair queue, the red and black lists with an entry; screenshots under test-artefacts/browser/ (not committed)."""
from datetime import timedelta
from pathlib import Path

import pytest

from app.common.dates import local_date
from app.entities import RepairRequest
from app.extensions import db

from .. import factories
from ..factories import PASSWORD
from ..regulator.test_routes_governance import _objection

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_regulator_reads_its_queues_and_lists(world, page, width):
    objection = _objection(world)
    objection.due_on = local_date() - timedelta(days=2)
    db.session.add(RepairRequest(subject_id=world["firm"].id, source_record_id=objection.source_record_id,
                                 description="已履行处罚决定，申请修复"))
    factories.add_list_entry(world["other_firm"], "black")
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "regulator")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    checks = {"/regulator/objections": "已超期 2 天", "/regulator/repairs": "已履行处罚决定，申请修复",
              "/regulator/lists": world["other_firm"].name}
    for path, seen in checks.items():
        page.goto(f"{page.base}{path}")
        assert seen in page.locator("main").inner_text(), path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        page.screenshot(path=str(ARTEFACTS / f"regulator{path.replace('/', '-')}-{width}.png"), full_page=True)
    assert page.outside_requests == [] and page.csp_violations == []
