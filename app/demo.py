"""A small demo district: a few firms, institutions, products, needs, applications and a loan.

The synthetic-district generator (training/) replaces the firms here with a full district;
the logins stay.
"""
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.common import clock
from app.common.codes import make_uscc
from app.common.dates import add_months, local_date, month_of
from app.common.money import wan_to_yuan
from app.entities import CreditSubject, Institution, SourceRecord
from app.entities.base import utcnow
from app.matching.tables import ProductTerms
from app.services import accounts, applications, loans, matches, needs, products, subjects
from app.services.applications import Offer

DEMO_PASSWORD = "Yintai-demo-2026"
# The demo loan's application was submitted this many days ago (its need a day earlier).
LOAN_DAYS_AGO = 160

INSTITUTIONS = [
    ("印台农商银行（演示）", "bank", 3),
    ("铜川普惠融资担保有限公司（演示）", "guarantee", 3),
    ("印台金鼎典当行（演示）", "pawn", 2),
    ("铜川惠农小额贷款有限公司（演示）", "microloan", 2),
]

# (kind, name, town, industry GB/T 4754, established, registration serial)
FIRMS = [
    ("enterprise", "陈炉窑火陶瓷有限公司", "610203100", "3074", date(2014, 5, 12), "MA6X0001"),
    ("enterprise", "印台红富士果业有限公司", "610203101", "0151", date(2017, 9, 3), "MA6X0002"),
    ("enterprise", "王石凹新型建材有限公司", "610203003", "3021", date(2011, 3, 28), "MA6X0003"),
    ("individual_business", "城关老街面馆", "610203001", "6210", date(2019, 6, 1), "MA6X0004"),
    ("enterprise", "印台顺达物流有限公司", "610203004", "5430", date(2021, 11, 15), "MA6X0005"),
    ("cooperative", "广阳苹果种植专业合作社", "610203102", "0151", date(2016, 4, 20), "MA6X0006"),
]
FARMER = ("farmer", "王建军（农户）", "610203106", "0151", None, "610203106001020031")

# (institution index, name, amount 万元 min/max, term min/max, rate min/max %, guarantees)
PRODUCTS = [
    (0, "陶瓷贷", 10, 300, 6, 36, "3.65", "5.5", ["credit", "guarantor", "mortgage"]),
    (0, "果农e贷", 1, 50, 3, 24, "3.95", "6.0", ["credit", "guarantor"]),
    (0, "税信贷", 5, 200, 6, 12, "3.85", "5.2", ["credit"]),
    (1, "政银担·小微担保", 20, 500, 12, 36, "5.5", "8.0", ["guarantor", "mortgage"]),
    (2, "短期质押周转", 1, 100, 1, 6, "12.0", "18.0", ["pledge", "mortgage"]),
    (3, "个体经营快贷", 1, 30, 3, 12, "9.0", "15.0", ["credit", "guarantor"]),
]

# (firm index, amount 万元, term, purpose, guarantee, posted this many days ago)
NEEDS = [
    (0, 120, 24, "购置电窑两座、扩建展厅，承接陈炉古镇文旅订单", "mortgage", LOAN_DAYS_AGO + 1),
    (1, 40, 12, "苹果收购季流动资金", "credit", 12),
    (3, 8, 6, "店面翻新和冬季备货", "credit", 6),
    (4, 60, 18, "购置两辆冷链货车", "guarantor", 9),
    (6, 5, 12, "购买化肥和果袋", "credit", 1),
]


def demo_logins():
    """(role, username, display name) of every demo login."""
    return [
        ("firm", "firm_demo", "陈炉镇陶瓷企业 / ceramics firm"),
        ("firm", "farmer_demo", "农户 / farmer household"),
        ("lender_officer", "officer_bank", "印台农商银行 客户经理"),
        ("lender_officer", "officer_microloan", "惠农小贷 客户经理"),
        ("lender_admin", "admin_bank", "印台农商银行 管理员"),
        ("regulator", "regulator", "区金融办"),
        ("data_admin", "dataadmin", "数据管理员"),
        ("platform_admin", "platform", "平台管理员"),
    ]


def build_demo(session, region_code):
    """Load the demo district unless it is there already; returns True when it loaded."""
    if accounts.find_user(session, "platform") is not None:
        return False
    institutions = [Institution(name=n, kind=k, response_limit_days=d) for n, k, d in INSTITUTIONS]
    session.add_all(institutions)
    firms = _district_firms(session) or _registered_firms(session, region_code)
    users = _create_users(session, institutions, firms)
    catalogue = [products.publish_product(session, institutions[i], users["admin_bank"], ProductTerms(
        name=name, description=f"{name}：面向印台区小微企业、个体工商户和农户的演示产品。",
        amount_min=wan_to_yuan(lo), amount_max=wan_to_yuan(hi), term_min=tlo, term_max=thi, rate_min=Decimal(rlo),
        rate_max=Decimal(rhi), guarantee_types=tuple(guarantees)))
        for i, name, lo, hi, tlo, thi, rlo, rhi, guarantees in PRODUCTS]
    posted = []
    for firm_index, amount, term, purpose, guarantee, days_ago in NEEDS:
        owner = users[{0: "firm_demo", 6: "farmer_demo"}.get(firm_index, f"firm_{firm_index}")]
        with clock.frozen(utcnow() - timedelta(days=days_ago)):
            posted.append(needs.post_need(session, firms[firm_index], owner, wan_to_yuan(amount), term,
                                          purpose, guarantee))
    session.flush()
    _demo_applications(session, users, posted, catalogue)
    matches.rematch_all(session)
    return True


def _registered_firms(session, region_code):
    """The handmade demo firms, registered as firms register themselves (no department data)."""
    firms = []
    for kind, name, town, industry, established, serial in FIRMS:
        prefix = subjects.USCC_PREFIXES[kind][0]
        firms.append(subjects.register_subject(session, kind, name, make_uscc(prefix, region_code, serial),
                                               town, industry, established))
        session.flush()
    kind, name, town, industry, _established, household = FARMER
    firms.append(subjects.register_subject(session, kind, name, household, town, industry))
    session.flush()
    return firms


# Subjects of an ingested district that play the demo firms' parts: (kind, industry prefix, town).
DISTRICT_PARTS = [
    ("enterprise", "307", "610203100"), ("enterprise", "0151", None), ("enterprise", "30", None),
    ("individual_business", "62", None), ("enterprise", "54", None), ("cooperative", None, None),
    ("farmer", None, None),
]


def _district_firms(session):
    """Subjects of the ingested district with tax records for the demo parts; None without a district."""
    with_tax = select(SourceRecord.id).where(SourceRecord.subject_id == CreditSubject.id,
                                             SourceRecord.source == "tax_filing").exists()
    firms = []
    for kind, industry, town in DISTRICT_PARTS:
        query = select(CreditSubject).where(CreditSubject.kind == kind, CreditSubject.status == "active")
        if industry:
            query = query.where(CreditSubject.industry_code.startswith(industry))
        if town:
            query = query.where(CreditSubject.town_code == town)
        if kind != "farmer":
            query = query.where(with_tax)
        subject = session.scalars(query.order_by(CreditSubject.id)).first()
        if subject is None or subject in firms:
            return None
        firms.append(subject)
    return firms


def _create_users(session, institutions, firms):
    attachments = {
        "firm_demo": {"subject": firms[0]}, "farmer_demo": {"subject": firms[6]},
        "officer_bank": {"institution": institutions[0]},
        "officer_microloan": {"institution": institutions[3]},
        "admin_bank": {"institution": institutions[0]},
    }
    users = {}
    for role, username, display in demo_logins():
        attached = attachments.get(username, {})
        name = attached["subject"].name if "subject" in attached else display
        users[username] = accounts.create_user(session, username, DEMO_PASSWORD, role, name, **attached)
    for index, firm in enumerate(firms[1:6], start=1):
        users[f"firm_{index}"] = accounts.create_user(session, f"firm_demo_{index}", DEMO_PASSWORD,
                                                      "firm", firm.name, subject=firm)
    session.flush()
    return users


# The demo loan's monthly reports: (months after disbursement, days past due, balance 万元).
LOAN_MONTHS = [(1, 0, 96), (2, 12, 96), (3, 0, 88), (4, 0, 84)]


def _demo_applications(session, users, posted, catalogue):
    """A loan with its monthly reports (its need's other application closed by the disbursement),
    an offer waiting for its firm, a decline and an application waiting for review, so that every
    page has content."""
    officer = users["officer_bank"]
    _demo_loan(session, officer, users["firm_demo"], posted[0], catalogue[0], catalogue[3])
    waiting = applications.apply(session, posted[3], catalogue[0], users["firm_4"], True)
    applications.start_review(waiting, officer)
    applications.approve(session, waiting, officer, Offer(
        amount=wan_to_yuan(50), rate=Decimal("4.8"), term_months=18, repayment="equal_principal",
        guarantee="guarantor", valid_until=local_date() + timedelta(days=14), collateral="法定代表人连带责任保证"),
        "批准 50 万元，请于有效期内确认")
    declined = applications.apply(session, posted[1], catalogue[2], users["firm_1"], True)
    applications.start_review(declined, officer)
    applications.decline(session, declined, officer, ["tax_arrears", "operating_history_short"],
                         "近 12 个月有两期逾期申报")
    applications.apply(session, posted[4], catalogue[1], users["farmer_demo"], True)
    session.flush()


def _demo_loan(session, officer, firm_user, need, product, other_product):
    """The ceramics firm's need applied for twice, approved, accepted and disbursed about five months
    ago, then reported on monthly (one month 12 days late); the other application is closed."""
    start = utcnow() - timedelta(days=LOAN_DAYS_AGO)
    # Each step at its moment on the platform's clock: events, consents and audit entries agree.
    with clock.frozen(start):
        application = applications.apply(session, need, product, firm_user, True)
        applications.apply(session, need, other_product, firm_user, True)
    with clock.frozen(start + timedelta(days=1)):
        applications.start_review(application, officer)
    with clock.frozen(start + timedelta(days=3)):
        applications.approve(session, application, officer, Offer(
            amount=wan_to_yuan(100), rate=Decimal("4.35"), term_months=24, repayment="annuity",
            guarantee="mortgage", valid_until=local_date(start) + timedelta(days=30),
            collateral="电窑两座及展厅房产抵押"), "以窑炉设备抵押，批准 100 万元")
    with clock.frozen(start + timedelta(days=4)):
        applications.accept_offer(session, application, firm_user)
    with clock.frozen(start + timedelta(days=6)) as disbursed_at:
        loan = loans.disburse(session, application, officer, wan_to_yuan(100), local_date(disbursed_at),
                              "YTNS-2026-000123")
    for months, days_past_due, balance in LOAN_MONTHS:
        month = month_of(add_months(loan.disbursed_on, months))
        reported_at = datetime.combine(add_months(month, 1), datetime.min.time()) + timedelta(days=3)
        with clock.frozen(min(reported_at, utcnow())):
            loans.record_month(session, loan, officer, month, days_past_due, wan_to_yuan(balance),
                               note="客户资金周转偏紧，已催收" if days_past_due else None)
