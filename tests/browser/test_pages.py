"""Each role's pages in a real browser: login, home page with its data, a form with bad input,
the English switch, and no request leaving the machine (every asset is served by the app)."""
import pytest

from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from app.extensions import db

HOME_HEADINGS = {
    "firm": "我的融资", "lender_officer": "融资申请", "lender_admin": "融资申请", "regulator": "市场监测",
    "data_admin": "数据归集", "platform_admin": "用户与机构",
}


@pytest.fixture
def demo(app):
    build_demo(db.session, app.config["REGION_CODE"])
    db.session.commit()


def log_in(page, username):
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


@pytest.mark.parametrize(("role", "username"), [(role, username) for role, username, _ in demo_logins()])
def test_every_role_logs_in_and_sees_its_home(demo, page, role, username):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, username)
    assert "/login" not in page.url
    assert HOME_HEADINGS[role] in page.locator("nav.nav").inner_text()
    # The stylesheet is the app's own and is applied (the header is laid out as a bar).
    assert page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display") == "flex"
    assert page.outside_requests == [] and errors == []


def test_a_firm_posts_a_need_and_bad_input_is_refused_in_chinese(demo, page):
    log_in(page, "firm_demo")
    page.goto(f"{page.base}/firm/needs/new")
    page.fill("input[name=amount_wan]", "-5")
    page.fill("input[name=term_months]", "12")
    page.fill("textarea[name=purpose]", "购置设备")
    page.click("main button[type=submit]")
    assert "金额" in page.locator("main").inner_text()
    assert "/firm/needs/new" in page.url
    page.fill("input[name=amount_wan]", "35")
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    assert "35" in page.locator("main").inner_text() and "/firm/needs/new" not in page.url
    assert page.outside_requests == []


def test_the_english_switch(demo, page):
    log_in(page, "regulator")
    page.click("text=English")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Market" in page.locator("nav.nav").inner_text()
