"""From application to loan in a real browser: the officer approves with terms, the firm accepts,
the officer records the disbursement and a month's status, and the firm sees its loan."""
from app.common.dates import local_date

from .test_pages import demo, log_in  # noqa: F401  (the demo fixture)


def log_out(page):
    page.click("header button:has-text('退出')")
    page.wait_for_load_state("load")


def main_text(page):
    return page.locator("main").inner_text()


def test_an_offer_becomes_a_loan_the_firm_sees(demo, page):  # noqa: F811
    today = local_date()
    log_in(page, "officer_bank")
    page.click("main a:has-text('王建军（农户）')")
    page.click("main button:has-text('开始审核')")
    page.wait_for_load_state("load")
    application_url = page.url
    page.fill("input[name=amount_wan]", "5")
    page.fill("input[name=rate]", "4.2")
    page.fill("input[name=term_months]", "12")
    page.select_option("select[name=repayment]", "equal_principal")
    page.select_option("form[action$='/approve'] select[name=guarantee]", "credit")
    page.fill("input[name=collateral]", "无")
    page.click("form[action$='/approve'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "已批准" in main_text(page) and "等额本金" in main_text(page)
    log_out(page)

    log_in(page, "farmer_demo")
    page.goto(application_url.replace("/lender/", "/firm/"))
    assert "请在" in main_text(page) and "4.2%" in main_text(page)
    page.click("form[action$='/accept'] button")
    page.wait_for_load_state("load")
    assert "企业已接受" in main_text(page)
    log_out(page)

    log_in(page, "officer_bank")
    page.goto(application_url)
    page.fill("input[name=disbursed_on]", today.isoformat())
    page.fill("input[name=reference]", "YTNS-BROWSER-0001")
    page.click("form[action$='/disburse'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "已放款" in main_text(page) and "YTNS-BROWSER-0001" in main_text(page)
    page.fill("input[name=month]", today.strftime("%Y-%m"))
    page.fill("input[name=days_past_due]", "0")
    page.fill("input[name=outstanding_wan]", "5")
    page.click("form[action$='/repayments'] button[type=submit]")
    page.wait_for_load_state("load")
    assert "还款中" in main_text(page)
    log_out(page)

    log_in(page, "farmer_demo")
    loans = page.locator("#loans").inner_text()
    assert "YTNS-BROWSER-0001" in loans and "还款中" in loans and "4.2%" in loans
    assert page.outside_requests == []
