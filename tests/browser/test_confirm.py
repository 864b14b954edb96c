"""Destructive actions ask first: dismissing the question changes nothing, agreeing does it."""
from app.entities import Consent
from app.extensions import db

from ..factories import PASSWORD


def test_revoking_a_consent_asks_first(world, page):
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", "firm")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(f"{page.base}/firm/consents")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("form[data-confirm] button")
    page.wait_for_timeout(300)
    assert questions and "撤回" in questions[0] and page.url.endswith("/firm/consents")
    db.session.expire_all()
    assert db.session.get(Consent, world["consent"].id).status == "active"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("form[data-confirm] button")
    db.session.expire_all()
    assert db.session.get(Consent, world["consent"].id).status == "revoked"
    assert page.csp_violations == []
