"""Accounts in a real browser at desk and phone widths: an existing subject joins with its code and
invites a colleague who logs in; a farmer without a code registers; English survives login.
Screenshots go to instance/screenshots/accounts/ (not committed)."""
import re
from pathlib import Path

import pytest
from stdnum.cn import ric

from app.common import idnumbers
from app.entities.users import SUBJECT_CODE
from app.extensions import db
from app.services import invitations
from app.services.accounts import hash_password

from .. import factories
from .conftest import open_menu

SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots" / "accounts"
WIDTHS = {"desk": 1280, "phone": 390}
BODY = "61020319800101123"
REP_ID = BODY + ric.calc_check_digit(BODY + "0")
PASSWORD = "Apple-2026-red"


@pytest.fixture(params=list(WIDTHS))
def screen(request, browser, live_server):
    """A browser page of the given width, with its own cookies."""
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTHS[request.param], "height": 860})
    page = context.new_page()
    page.base, page.width_name = live_server, request.param
    page.outside = []
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:"))
            else page.outside.append(r.url))
    yield page
    context.close()


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.width_name}.png"), full_page=True)


def fits(page):
    """Nothing on the page needs sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def fill_account(page, name, username):
    page.fill("input[name=display_name]", name)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)


def log_in(page, username):
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def test_an_existing_subject_joins_and_invites_a_colleague(app, screen):
    subject = factories.SubjectFactory(name="陈炉窑火陶瓷有限公司",
                                       legal_rep_id_hash=idnumbers.keyed_hash(REP_ID, app.config["ID_HASH_KEY"]))
    admin = factories.UserFactory(username="padmin", role="platform_admin")
    _invitation, code = invitations.issue(db.session, SUBJECT_CODE, subject, admin, 14)
    db.session.commit()
    page = screen
    page.goto(f"{page.base}/join")
    page.fill("input[name=code]", code)
    page.fill("input[name=id_number]", REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1"))
    fill_account(page, "张法人", "legalrep")
    page.click("main button[type=submit]")
    assert "校验位" in page.locator("main").inner_text()
    shot(page, "join-refused")
    page.fill("input[name=id_number]", REP_ID)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    assert "/firm/" in page.url and "陈炉窑火陶瓷有限公司" in page.locator("main").inner_text()
    page.goto(f"{page.base}/firm/members")
    page.click("main button:has-text('邀请同事')")
    page.wait_for_load_state("load")
    invite = page.locator("[data-invitation-code]").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", invite) and fits(page)
    shot(page, "invitation")
    link = page.locator("main a[href*='/join?code=']").get_attribute("href")
    colleague = page.context.browser.new_context(viewport=page.viewport_size).new_page()
    colleague.base = page.base
    colleague.goto(link)
    assert colleague.input_value("input[name=code]") == invite
    fill_account(colleague, "李同事", "colleague")
    colleague.click("main button[type=submit]")
    colleague.wait_for_load_state("load")
    assert "/firm/" in colleague.url
    colleague.context.close()
    fresh = page.context.browser.new_context(viewport=page.viewport_size).new_page()
    fresh.base = page.base
    log_in(fresh, "colleague")
    assert "陈炉窑火陶瓷有限公司" in fresh.locator("main").inner_text()
    fresh.context.close()
    page.goto(f"{page.base}/firm/members")
    assert "李同事" in page.locator("main").inner_text() and fits(page)
    shot(page, "members")
    assert page.outside == []


def test_a_farmer_without_a_code_registers(app, screen):
    page = screen
    page.goto(f"{page.base}/register")
    page.select_option("select[name=kind]", "farmer")
    page.fill("input[name=name]", "王建军")
    page.select_option("select[name=town_code]", "610203106")
    page.fill("input[name=village]", "阿庄村")
    page.fill("input[name=id_number]", REP_ID)
    fill_account(page, "王建军", "wangjj")
    assert fits(page)
    shot(page, "farmer-register")
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    assert "/firm/" in page.url
    assert page.outside == []


def test_english_survives_login(app, screen):
    factories.UserFactory(username="firmuser", role="firm", subject=factories.SubjectFactory(),
                          password_hash=hash_password(PASSWORD))
    db.session.commit()
    page = screen
    page.goto(f"{page.base}/login")
    open_menu(page)
    page.click("text=English")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    log_in(page, "firmuser")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "My financing" in page.locator("nav.nav").inner_text()
    shot(page, "english-after-login")
