"""Phone first (390 px): the header is one line with a menu button, the menu opens below it, tables become cards,
every page of each role's menu fits the width (nothing to scroll sideways), and the apply button of a matched
product is on the screen."""
from pathlib import Path

import pytest
from sqlalchemy import select

from app.demo import demo_logins
from app.entities import FinancingNeed, Match, User
from app.extensions import db
from app.services import matches

from .test_pages import demo, log_in  # noqa: F401  (demo is a fixture)

PHONE = {"width": 390, "height": 844}
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


def fits_the_width(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize(("role", "username"), [(role, username) for role, username, _ in demo_logins()])
def test_every_menu_page_fits_a_phone(demo, page, role, username):  # noqa: F811
    page.set_viewport_size(PHONE)
    log_in(page, username)
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 64, f"the header takes {header['height']} px"
    assert page.locator(".menu-button").is_visible() and not page.locator("nav.nav").is_visible()
    page.click(".menu-button")
    links = page.locator("nav.nav a")
    assert page.locator("nav.nav").is_visible() and links.count() >= 1
    targets = [links.nth(n).get_attribute("href") for n in range(links.count())]
    for target in targets:
        page.goto(f"{page.base}{target}")
        assert fits_the_width(page), f"{username}: {target} scrolls sideways"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"phone-{username}.png"), full_page=True)
    assert page.outside_requests == [] and page.csp_violations == []


def test_the_apply_button_of_a_matched_product_is_on_screen(demo, page):  # noqa: F811
    matches.rematch_all(db.session)
    db.session.commit()
    need, username = db.session.execute(select(FinancingNeed, User.username).join(
        User, (User.subject_id == FinancingNeed.subject_id) & (User.role == "firm")).where(
        FinancingNeed.status == "open", FinancingNeed.id.in_(select(Match.need_id).where(Match.eligible.is_(True))))
        .order_by(FinancingNeed.id)).first()
    page.set_viewport_size(PHONE)
    log_in(page, username)
    page.goto(f"{page.base}/firm/needs/{need.id}")
    apply = page.locator(f"a[href^='/firm/needs/{need.id}/apply/']").first
    box = apply.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert fits_the_width(page)
    page.screenshot(path=str(ARTEFACTS / "phone-need.png"), full_page=True)
