"""Matching needs and products from the database: rules read the firm's data, verdicts are stored."""
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.common.dates import local_date
from app.entities import Match
from app.extensions import db
from app.matching.explain import sentence
from app.matching.tables import ProductTerms
from app.services import matches, products

from .. import factories


def product(**rules):
    made = factories.ProductFactory(rules=rules)
    db.session.flush()
    return made


def verdict(need, made):
    """(eligible, {rule: sentence} of failed rules) of one product for one need, live."""
    result = matches.evaluate_need(db.session, need)
    for entry in result.eligible:
        if entry.product.id == made.id:
            return True, {}
    entry = next(m for m in result.near_misses + result.others if m.product.id == made.id)
    return False, {r["rule"]: sentence(r) for r in entry.failed}


def test_firm_age_is_explained_in_years(app):
    young = factories.SubjectFactory(established_on=local_date() - timedelta(days=int(1.55 * 365.25)))
    need = factories.NeedFactory(subject=young)
    eligible, failed = verdict(need, product(min_age_years=2.0))
    assert not eligible
    assert failed == {"firm_age": "企业成立年限 1.5 年，低于产品要求的 2 年"}


def test_unscored_firm_is_told_so_and_the_product_decides(app):
    need = factories.NeedFactory()
    strict, lenient = product(min_grade="C", unscored_pass=False), product(min_grade="C", unscored_pass=True)
    assert verdict(need, strict) == (False, {"grade": "暂无信用评分，产品要求信用等级不低于 C"})
    assert verdict(need, lenient)[0]
    factories.add_score(need.subject, "B", 0.03)
    assert verdict(need, strict)[0]
    factories.add_score(need.subject, "D", 0.2)  # the latest score counts
    assert verdict(need, strict) == (False, {"grade": "信用等级 D，低于产品要求的 C"})


def test_blacklisted_firm_is_excluded_or_reviewed_as_the_product_says(app):
    need = factories.NeedFactory()
    excluding, reviewing = product(blacklist_policy="exclude"), product(blacklist_policy="review")
    factories.add_list_entry(need.subject, "black", status="removed")
    assert verdict(need, excluding)[0]
    factories.add_list_entry(need.subject, "black")
    assert verdict(need, excluding) == (False, {"blacklist": "已列入失信黑名单，不予办理纯信用贷款"})
    result = matches.evaluate_need(db.session, need)
    assert [m.product for m in result.eligible] == [reviewing] and result.eligible[0].review


def test_required_months_of_tax_filings_count_recent_periods(app):
    need = factories.NeedFactory()
    made = product(required_sources=[{"source": "tax_filing", "months": 12}])
    rows = [(factories.months_ago(k), {"revenue": 100_000.0, "arrears": 0.0}) for k in range(1, 9)]
    factories.add_records(need.subject, "tax_filing", rows + [(factories.months_ago(30), {"revenue": 1.0})])
    assert verdict(need, made) == (False, {"sources": "部门数据不足：税务月度申报近 12 个月中有 8 个月"})
    factories.add_records(need.subject, "tax_filing", [(factories.months_ago(k), {"revenue": 100_000.0})
                                                       for k in range(9, 13)])
    assert verdict(need, made)[0]


def test_a_lenders_own_rule_reads_the_firms_department_data(app):
    need = factories.NeedFactory()
    made = product(extra=[{"attribute": "revenue_12m_wan", "operator": "ge", "value": 100.0}])
    eligible, failed = verdict(need, made)
    assert not eligible and failed["extra_1"] == "缺少近 12 个月申报营业收入数据，不满足“不低于 100万元”"
    factories.add_records(need.subject, "tax_filing", [(factories.months_ago(k), {"revenue": 90_000.0})
                                                       for k in range(1, 13)])
    assert verdict(need, made)[0]


def test_eligible_products_are_ranked_by_fit_and_the_green_channel_first(app):
    need = factories.NeedFactory()
    cheap = factories.ProductFactory(rate_min=Decimal("3.5"), rate_max=Decimal("3.5"))
    costly = factories.ProductFactory(rate_min=Decimal("9"), rate_max=Decimal("9"), upfront_fee_pct=Decimal(2))
    assert [m.product for m in matches.evaluate_need(db.session, need).eligible] == [cheap, costly]
    green = factories.ProductFactory(rate_min=Decimal("12"), rate_max=Decimal("12"), rules={"red_list_priority": True})
    factories.add_list_entry(need.subject, "red")
    ranked = matches.evaluate_need(db.session, need).eligible
    assert [m.product for m in ranked] == [green, cheap, costly] and ranked[0].priority
    assert ranked[2].apr > 9  # the fee counts in the annualised cost


def test_rematch_stores_every_verdict_a_regulator_needs(app):
    need = factories.NeedFactory()
    fits = factories.ProductFactory()
    factories.ProductFactory(term_max_months=6)
    matches.rematch_need(db.session, need)
    stored = {m.product_id: m for m in db.session.scalars(select(Match).where(Match.need_id == need.id))}
    assert stored[fits.id].eligible and stored[fits.id].fit > 0 and stored[fits.id].product_version == 1
    assert len(stored[fits.id].rule_results) == 12
    miss = next(m for m in stored.values() if not m.eligible)
    assert miss.failed_count == 1 and [r["rule"] for r in miss.rule_results] == ["term"]


def test_a_need_that_found_nothing_keeps_every_failing_pair(app):
    need = factories.NeedFactory(amount=Decimal("90000000"), term_months=240, guarantee="pledge")
    for _ in range(3):
        factories.ProductFactory()
    matches.rematch_need(db.session, need)
    stored = db.session.scalars(select(Match).where(Match.need_id == need.id)).all()
    assert len(stored) == 3 and all(m.failed_count == 3 for m in stored)


def test_product_edits_and_retirement_rematch_open_needs(app):
    bank = factories.InstitutionFactory()
    admin = factories.UserFactory(role="lender_admin", institution=bank)
    need = factories.NeedFactory(term_months=48)
    terms = ProductTerms(name="陶瓷贷", amount_min=Decimal(10_000), amount_max=Decimal(2_000_000), term_min=3,
                         term_max=36, rate_min=Decimal("4"), rate_max=Decimal("6"), guarantee_types=("credit",))
    made = products.publish_product(db.session, bank, admin, terms)
    stored = db.session.scalars(select(Match).where(Match.need_id == need.id)).one()
    assert not stored.eligible
    products.update_product(db.session, made, admin, replace(terms, term_max=60))
    db.session.expire_all()
    stored = db.session.scalars(select(Match).where(Match.need_id == need.id)).one()
    assert stored.eligible and stored.product_version == 2
    assert [v.version for v in products.versions_of(db.session, made.id)] == [2, 1]
    products.retire_product(db.session, made, admin)
    assert db.session.scalars(select(Match).where(Match.product_id == made.id)).all() == []


def test_approval_odds_come_from_the_institutions_decisions_when_there_are_enough(app):
    bank = factories.InstitutionFactory(name="印台农商银行")
    made = factories.ProductFactory(institution=bank)
    need = factories.NeedFactory()
    assert matches.evaluate_need(db.session, need).eligible[0].odds_basis == "none"
    firms = [factories.SubjectFactory() for _ in range(4)]
    rows = [{"institution": "印台农商银行", "decision": "approved" if k % 4 else "declined"} for k in range(40)]
    for k, payload in enumerate(rows):
        factories.add_records(firms[k % 4], "application_history", [(date(2025, 1, 1) + timedelta(days=k), payload)])
    entry = matches.evaluate_need(db.session, need).eligible[0]
    assert entry.product == made and entry.odds_basis == "institution" and entry.evidence == 40
    assert 0.6 < entry.odds < 0.8


def decide(made, firm, count, status):
    """`count` applications of `firm` to `made`, decided `status` on successive days."""
    consent = factories.ConsentFactory(subject_id=firm.id, institution_id=made.institution_id)
    for k in range(count):
        factories.ApplicationFactory(need=factories.NeedFactory(subject=firm), product=made, subject_id=firm.id,
                                     institution_id=made.institution_id, consent_id=consent.id, status=status,
                                     decided_at=datetime(2025, 3, 1) + timedelta(days=k))


def test_approval_odds_follow_a_products_own_decisions_once_it_has_enough(app):
    bank = factories.InstitutionFactory(name="印台农商银行")
    firm = factories.SubjectFactory()
    strict, other = factories.ProductFactory(institution=bank), factories.ProductFactory(institution=bank)
    decide(strict, firm, 40, "declined")
    decide(other, firm, 3, "approved")
    db.session.flush()
    entries = {m.product.id: m for m in matches.evaluate_need(db.session, factories.NeedFactory()).eligible}
    assert (entries[strict.id].odds_basis, entries[strict.id].evidence) == ("product", 40)
    assert entries[strict.id].odds < 0.25
    # three approvals say little: the product is estimated from its institution's 43 decisions
    assert (entries[other.id].odds_basis, entries[other.id].evidence) == ("institution", 43)
    assert entries[other.id].odds < 0.5
