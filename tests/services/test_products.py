"""Publishing products, and which products fit a financing need."""
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.errors import InvalidInput
from app.entities import AuditEntry, Product
from app.extensions import db
from app.matching.explain import sentence
from app.matching.tables import ProductTerms
from app.services import matches
from app.services.products import failed_rules, products_for_need, publish_product, update_product, versions_of

from .. import factories

CHINESE = re.compile(r"[\u4e00-\u9fff]")
VALID = ProductTerms(name="陶瓷贷", amount_min=Decimal("100000.00"), amount_max=Decimal("3000000.00"),
                     term_min=6, term_max=36, rate_min=Decimal("3.65"), rate_max=Decimal("5.5"),
                     guarantee_types=("credit", "mortgage"), description="面向陶瓷企业")


@pytest.fixture
def lender(app):
    """An institution and its lender admin, committed."""
    bank = factories.InstitutionFactory(name="印台农商银行")
    admin = factories.UserFactory(role="lender_admin", institution=bank)
    db.session.commit()
    return bank, admin


def publish(lender, **changes):
    bank, admin = lender
    return publish_product(db.session, bank, admin, replace(VALID, **changes))


def product_count():
    return db.session.scalar(select(func.count(Product.id)))


# --- publish_product -------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"amount_min": Decimal("3000000.01")}, "amount_max"),
    ({"amount_min": Decimal("500000"), "amount_max": Decimal("400000")}, "amount_max"),
    ({"amount_min": Decimal("0")}, "amount_min"),
    ({"amount_max": Decimal("200000000")}, "amount_max"),
    ({"term_min": 37}, "term_max"),
    ({"term_min": 12, "term_max": 6}, "term_max"),
    ({"term_min": 0}, "term_min"),
    ({"term_max": 361}, "term_max"),
    ({"rate_min": Decimal("6"), "rate_max": Decimal("5.5")}, "rate_max"),
    ({"rate_min": Decimal("0")}, "rate_max"),
    ({"rate_min": Decimal("-1")}, "rate_max"),
    ({"rate_max": Decimal("100.5")}, "rate_max"),
    ({"rate_min": None}, "rate_max"),
    ({"rate_max": None}, "rate_max"),
    ({"guarantee_types": []}, "guarantee_types"),
    ({"guarantee_types": None}, "guarantee_types"),
    ({"guarantee_types": ["credit", "house"]}, "guarantee_types"),
    ({"name": "   "}, "name"),
    ({"name": "贷" * 121}, "name"),
    ({"description": "说" * 2001}, "description"),
])
def test_publish_product_refuses_bad_ranges(lender, changes, field):
    with pytest.raises(InvalidInput) as caught:
        publish(lender, **changes)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.message)
    assert not db.session.new
    db.session.rollback()
    assert product_count() == 0
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_publish_product_stores_a_published_product_and_audits_it(lender):
    bank, admin = lender
    product = publish(lender, name="  陶瓷贷  ")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Product, product.id)
    assert stored.status == "published"
    assert stored.published_at is not None
    assert stored.institution_id == bank.id
    assert stored.created_by_id == admin.id
    assert stored.name == "陶瓷贷"
    assert (stored.amount_min, stored.amount_max) == (Decimal("100000.00"), Decimal("3000000.00"))
    assert (stored.term_min_months, stored.term_max_months) == (6, 36)
    assert (stored.rate_min, stored.rate_max) == (Decimal("3.65"), Decimal("5.5"))
    assert stored.guarantee_types == ["credit", "mortgage"]
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "product.publish"
    assert (entry.target_type, entry.target_id) == ("Product", product.id)
    assert entry.actor_id == admin.id
    assert entry.details == {"name": "陶瓷贷"}


def test_an_edit_that_changes_nothing_makes_no_version(lender):
    bank, admin = lender
    product = publish(lender, rules={"min_age_years": 2, "industries": "C, 0151"})
    db.session.commit()
    unchanged = replace(VALID, name=" 陶瓷贷 ", amount_max=Decimal("3000000"), rate_min=Decimal("3.650"),
                        guarantee_types=("mortgage", "credit"),
                        rules={"industries": ["C", "0151"], "min_age_years": "2"})
    update_product(db.session, product, admin, unchanged)
    db.session.commit()
    assert product.version == 1 and [v.version for v in versions_of(db.session, product.id)] == [1]
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "product.update")) == 0
    update_product(db.session, product, admin, replace(unchanged, description="面向陶瓷和果品企业"))
    db.session.commit()
    assert product.version == 2 and product.description == "面向陶瓷和果品企业"


def test_publish_product_accepts_equal_bounds(lender):
    product = publish(lender, amount_min=Decimal("500000"), amount_max=Decimal("500000"), term_min=12,
                      term_max=12, rate_min=Decimal("4"), rate_max=Decimal("4"), guarantee_types=("pledge",))
    assert product.status == "published"


# --- failed_rules ----------------------------------------------------------------------------

@pytest.fixture
def product(app):
    """A product for 1–200 万元, 3–36 months, 3.85–6 %, credit or guarantor (the factory's ranges)."""
    product = factories.ProductFactory()
    db.session.commit()
    return product


def need(**values):
    return factories.NeedFactory(**values)


@pytest.mark.parametrize("values", [
    {},
    {"amount": Decimal("10000.00")},
    {"amount": Decimal("2000000.00")},
    {"term_months": 3},
    {"term_months": 36},
    {"guarantee": "guarantor"},
    {"max_rate": Decimal("3.85")},
    {"max_rate": Decimal("20")},
    {"max_rate": None},
])
def test_a_need_inside_every_range_fits(product, values):
    assert failed_rules(db.session, product, need(**values)) == []


@pytest.mark.parametrize(("values", "words"), [
    ({"amount": Decimal("9999.99")}, "万元"),
    ({"amount": Decimal("4000000.01")}, "万元"),
    ({"amount": Decimal("5000000")}, "500 万元"),
    ({"term_months": 2}, "2 个月"),
    ({"term_months": 37}, "37 个月"),
    ({"guarantee": "mortgage"}, "抵押"),
    ({"guarantee": "pledge"}, "质押"),
    ({"max_rate": Decimal("3.849")}, "3.849%"),
    ({"max_rate": Decimal("3")}, "3%"),
])
def test_each_range_a_need_falls_outside_is_named(product, values, words):
    failures = failed_rules(db.session, product, need(**values))
    assert len(failures) == 1
    assert words in failures[0]


def test_a_product_covering_at_least_half_the_need_fits_partially(app, product):
    the_need = need(amount=Decimal("2500000.00"))
    assert failed_rules(db.session, product, the_need) == []
    matched = matches.evaluate_need(db.session, the_need).eligible[0]
    assert matched.coverage == pytest.approx(0.8)
    assert "可满足需求金额 250 万元的 80%" in sentence(matched.results[0])


def test_every_failed_rule_is_listed(product):
    failures = failed_rules(db.session, product, need(amount=Decimal("1000"), term_months=120, guarantee="mortgage",
                                          max_rate=Decimal("1")))
    assert len(failures) == 4


# --- products_for_need -----------------------------------------------------------------------

def test_products_for_need_splits_fitting_products_and_near_misses(app):
    cheap = factories.ProductFactory(rate_min=Decimal("3.5"))
    dear = factories.ProductFactory(rate_min=Decimal("4.5"))
    too_short = factories.ProductFactory(term_max_months=6)
    the_need = need(term_months=12)
    db.session.commit()
    fitting, others = products_for_need(db.session, the_need)
    assert fitting == [cheap, dear]  # cheapest first
    assert [product for product, _failures in others] == [too_short]
    assert "12 个月" in others[0][1][0]


def test_products_for_need_honours_the_rate_the_firm_can_bear(app):
    cheap = factories.ProductFactory(rate_min=Decimal("3.5"))
    dear = factories.ProductFactory(rate_min=Decimal("4.5"))
    the_need = need(max_rate=Decimal("4"))
    db.session.commit()
    fitting, others = products_for_need(db.session, the_need)
    assert fitting == [cheap]
    assert [product for product, _failures in others] == [dear]


def test_retired_and_draft_products_and_inactive_institutions_are_not_listed(app):
    listed = factories.ProductFactory()
    listed_miss = factories.ProductFactory(amount_min=Decimal("1000000"))
    factories.ProductFactory(status="retired")
    factories.ProductFactory(status="retired", amount_min=Decimal("1000000"))
    factories.ProductFactory(status="draft", published_at=None)
    closed_bank = factories.InstitutionFactory(active=False)
    factories.ProductFactory(institution=closed_bank)
    factories.ProductFactory(institution=closed_bank, amount_min=Decimal("1000000"))
    the_need = need()
    db.session.commit()
    fitting, others = products_for_need(db.session, the_need)
    assert fitting == [listed]
    assert [product for product, _failures in others] == [listed_miss]


def test_products_for_need_with_no_products(app):
    the_need = need()
    db.session.commit()
    assert products_for_need(db.session, the_need) == ([], [])
