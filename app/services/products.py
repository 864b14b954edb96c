"""Financial products: publishing, versioned edits of their terms and rules, retiring, and which fit a need.

A product's terms travel as one `ProductTerms` value (app/matching/tables.py): the lender's form builds
it, `validated` checks and normalises it, and the product's columns and versions are written from it.
"""
from dataclasses import replace
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed
from app.common.region import town_codes
from app.common.vocab import GUARANTEE_TYPES, REPAYMENT_METHODS
from app.entities import Product, ProductVersion
from app.entities.base import utcnow
from app.matching.spec import validate_rules

from . import audit, compliance, matches
from .match_facts import product_terms
from .needs import validate_amount, validate_term

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_UPFRONT_FEE_PCT = Decimal(20)
MAX_GUARANTEE_FEE_PCT = Decimal(10)


def validated(terms):
    """`terms` checked and normalised (name trimmed, guarantee types in their order, rules as stored).

    InvalidInput names the first bad field.
    """
    name = (terms.name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(_("产品名称不能为空，且不超过 %(n)d 个字符。", n=MAX_NAME), "name")
    validate_amount(terms.amount_min, "amount_min")
    validate_amount(terms.amount_max, "amount_max")
    if terms.amount_min > terms.amount_max:
        raise InvalidInput(_("最低额度不能高于最高额度。"), "amount_max")
    validate_term(terms.term_min, "term_min")
    validate_term(terms.term_max, "term_max")
    if terms.term_min > terms.term_max:
        raise InvalidInput(_("最短期限不能长于最长期限。"), "term_max")
    rate_min, rate_max = terms.rate_min, terms.rate_max
    if rate_min is None or rate_max is None or not (Decimal(0) < rate_min <= rate_max <= Decimal(100)):
        raise InvalidInput(_("年化利率区间应满足 0 < 最低 ≤ 最高 ≤ 100%。"), "rate_max")
    guarantees = set(terms.guarantee_types or ())
    if not guarantees or guarantees - set(GUARANTEE_TYPES):
        raise InvalidInput(_("请至少选择一种担保方式。"), "guarantee_types")
    if len(terms.description or "") > MAX_DESCRIPTION:
        raise InvalidInput(_("产品说明不能超过 %(n)d 个字符。", n=MAX_DESCRIPTION), "description")
    if not _fee_ok(terms.upfront_fee_pct, MAX_UPFRONT_FEE_PCT):
        raise InvalidInput(_("一次性费用率应在 0 到 %(n)s%% 之间。", n=MAX_UPFRONT_FEE_PCT), "upfront_fee_pct")
    if not _fee_ok(terms.guarantee_fee_pct, MAX_GUARANTEE_FEE_PCT):
        raise InvalidInput(_("担保费率应在每年 0 到 %(n)s%% 之间。", n=MAX_GUARANTEE_FEE_PCT), "guarantee_fee_pct")
    if terms.repayment not in REPAYMENT_METHODS:
        raise InvalidInput(_("请选择还款方式。"), "repayment")
    towns = town_codes()
    rules = validate_rules(terms.rules or {}, tuple(current_app.config["CREDIT_GRADES"]), towns)
    return replace(terms, name=name, description=terms.description or "",
                   guarantee_types=tuple(g for g in GUARANTEE_TYPES if g in guarantees), rules=rules)


def _fee_ok(value, limit):
    return value is not None and Decimal(0) <= value <= limit


def _columns(terms):
    """The product's column values for validated `terms`."""
    return {"name": terms.name, "description": terms.description, "amount_min": terms.amount_min,
            "amount_max": terms.amount_max, "term_min_months": terms.term_min, "term_max_months": terms.term_max,
            "rate_min": terms.rate_min, "rate_max": terms.rate_max, "guarantee_types": list(terms.guarantee_types),
            "upfront_fee_pct": terms.upfront_fee_pct, "guarantee_fee_pct": terms.guarantee_fee_pct,
            "repayment": terms.repayment, "rules": terms.rules}


def publish_product(session, institution, user, terms):
    """Stage a published product of `institution` with `terms` (version 1) and match it with the open needs.

    The compliance rules may refuse it (InvalidInput on the rate above the APR cap, NotAllowed for a
    suspended licence) or flag it (docs/compliance.md).
    """
    terms = validated(terms)
    findings = compliance.check_product(institution, terms)
    product = Product(institution=institution, **_columns(terms), status="published", version=1,
                      published_at=utcnow(), created_by_id=user.id)
    session.add(product)
    session.flush()
    session.add(ProductVersion(product_id=product.id, version=1, terms=snapshot(product), changed_by_id=user.id))
    audit.record(session, user, "product.publish", product, name=terms.name)
    compliance.flag_findings(session, findings, product, institution.id)
    matches.rematch_product(session, product)
    return product


def update_product(session, product, user, terms):
    """Stage a new version of the product's terms (the old ones stay in its history) and re-match it.

    Terms equal to the current ones change nothing: no new version, no re-match.
    """
    if product.status == "retired":
        raise NotAllowed(_("已下架的产品不能修改。"))
    terms = validated(terms)
    if terms == product_terms(product):
        return product
    findings = compliance.check_product(product.institution, terms)
    current_version(session, product)
    for key, value in _columns(terms).items():
        setattr(product, key, value)
    product.version += 1
    session.add(ProductVersion(product_id=product.id, version=product.version, terms=snapshot(product),
                               changed_by_id=user.id))
    audit.record(session, user, "product.update", product, version=product.version)
    compliance.flag_findings(session, findings, product, product.institution_id)
    matches.rematch_product(session, product)
    return product


def snapshot(product):
    """The product's terms as JSON (amounts in 元, rates and fees in %, as text to keep every digit)."""
    return {
        "name": product.name, "description": product.description, "status": product.status,
        "amount_min": str(product.amount_min), "amount_max": str(product.amount_max),
        "term_min_months": product.term_min_months, "term_max_months": product.term_max_months,
        "rate_min": str(product.rate_min), "rate_max": str(product.rate_max),
        "guarantee_types": list(product.guarantee_types), "upfront_fee_pct": str(product.upfront_fee_pct or 0),
        "guarantee_fee_pct": str(product.guarantee_fee_pct or 0), "repayment": product.repayment,
        "rules": product.rules or {},
    }


def current_version(session, product):
    """The ProductVersion of the product's current terms (recorded now if it never was)."""
    query = select(ProductVersion).where(ProductVersion.product_id == product.id,
                                         ProductVersion.version == product.version)
    version = session.scalars(query).first()
    if version is None:
        version = ProductVersion(product_id=product.id, version=product.version, terms=snapshot(product),
                                 changed_by_id=product.created_by_id)
        session.add(version)
        session.flush()
    return version


def versions_of(session, product_id):
    """A product's versions, newest first."""
    return session.scalars(select(ProductVersion).where(ProductVersion.product_id == product_id)
                           .order_by(ProductVersion.version.desc())).all()


def retire_product(session, product, user):
    """Retire a published product: it stops matching; open applications go on."""
    if product.status != "published":
        raise NotAllowed(_("只有已发布的产品可以下架。"))
    product.status = "retired"
    product.retired_at = utcnow()
    audit.record(session, user, "product.retire", product)
    matches.rematch_product(session, product)


def products_of(session, institution_id):
    """An institution's products, newest first."""
    query = select(Product).where(Product.institution_id == institution_id).order_by(Product.id.desc())
    return session.scalars(query).all()


def failed_rules(session, product, need):
    """The sentences of every rule of `product` that `need` fails (empty: it is eligible)."""
    return matches.failed_reasons(session, product, need)


def products_for_need(session, need):
    """Published products of active institutions: those that fit (best first) and the others with reasons."""
    result = matches.evaluate_need(session, need)
    return ([m.product for m in result.eligible],
            [(m.product, m.reasons()) for m in result.near_misses + result.others])
