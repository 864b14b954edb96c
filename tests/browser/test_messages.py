"""银企线上沟通问答 and notifications in a real browser, on a desktop and on a phone: an officer asks
about an anonymised need with an attachment, the firm answers; then they talk on an application; the
bell shows the new messages and clears when they are read. Screenshots go to tests/browser/screenshots/
(not committed)."""
from pathlib import Path

import pytest

from app.extensions import db

from .. import factories
from ..factories import PASSWORD
from .conftest import open_menu

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def screened_world(app):
    world = factories.build_world()
    factories.show_in_screening(world["need"], world["product"])
    return world


def _log_in(page, username):
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def _log_out(page):
    open_menu(page)
    page.click("header button:has-text('退出')")
    page.wait_for_load_state("load")


def _send(page, text, file=None, publish=False):
    page.fill("textarea[name=body]", text)
    if file is not None:
        page.set_input_files("input[name=attachment]", file)
    if publish:
        page.check("input[name=publish]")
    page.click("#message-form button[type=submit]")
    page.wait_for_load_state("load")


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_firm_and_officer_talk_on_a_need_then_on_an_application(screened_world, page, viewport, tmp_path):
    world = screened_world
    page.set_viewport_size(VIEWPORTS[viewport])
    statement = tmp_path / "流水.pdf"
    statement.write_bytes(factories.PDF_BYTES)

    _log_in(page, "officer")
    page.goto(f"{page.base}/lender/screening?product_id={world['product'].id}")
    page.click("main a:has-text('提问')")
    page.wait_for_load_state("load")
    assert world["firm"].name not in page.locator("main").inner_text()
    _send(page, "请问贵企业是否有应收账款可以质押？", statement)
    assert "流水.pdf" in page.locator("#messages").inner_text()
    _shot(page, f"need-question-{viewport}")
    _log_out(page)

    _log_in(page, "firm")
    assert page.locator("#bell .count").inner_text() == "1"
    assert "1 条未读消息" in page.locator("#unread-messages").inner_text()
    page.click("#bell")
    page.wait_for_load_state("load")
    page.click("#notifications button:has-text('查看')")
    page.wait_for_load_state("load")
    assert "应收账款" in page.locator("#messages").inner_text()
    with page.expect_download() as download:
        page.click("#messages a:has-text('流水.pdf')")
    assert download.value.suggested_filename == "流水.pdf"
    _send(page, "有政府采购形成的应收账款约 80 万元。", publish=True)
    assert page.locator("#bell .count").count() == 0
    _no_sideways_scroll(page)
    _shot(page, f"need-answer-{viewport}")
    page.goto(f"{page.base}/firm/applications/{world['application'].id}")
    page.click("main a:has-text('沟通问答')")
    page.wait_for_load_state("load")
    _send(page, "营业执照见附件。", statement)
    _log_out(page)

    _log_in(page, "officer")
    assert page.locator("header .nav-messages .count").inner_text() == "2"
    page.click("header .nav-messages")
    page.wait_for_load_state("load")
    inbox = page.locator("#threads").inner_text()
    assert "匿名企业" in inbox and world["firm"].name in inbox
    page.click(f"#threads a:has-text('申请 #{world['application'].id} 的沟通')")
    page.wait_for_load_state("load")
    assert "营业执照见附件。" in page.locator("#messages").inner_text()
    _send(page, "收到，谢谢。")
    page.click("header .nav-messages")
    page.wait_for_load_state("load")
    page.click("#threads a:has-text('融资需求咨询')")
    page.wait_for_load_state("load")
    text = page.locator("#messages").inner_text()
    assert "80 万元" in text and world["firm"].name not in page.locator("main").inner_text()
    assert page.locator("header .nav-messages .count").count() == 0 and page.locator("#bell .count").count() == 0
    _no_sideways_scroll(page)
    _shot(page, f"officer-threads-{viewport}")
    _log_out(page)

    page.goto(f"{page.base}/faq?q=应收账款")
    assert "80 万元" in page.locator("#faq").inner_text()
    assert world["firm"].name not in page.locator("main").inner_text()
    assert page.outside_requests == [] and page.csp_violations == []
    db.session.expire_all()
