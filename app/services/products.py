"""Financial products: publishing, retiring, and which products fit a need."""
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from app.entities import Institution, Product
from app.entities.base import utcnow
from app.entities.institutions import GUARANTEE_TYPES

from . import audit
from .errors import InvalidInput, NotAllowed
from .money import format_rate, format_wan
from .needs import validate_amount, validate_term


def guarantee_label(code):
    """The guarantee type's name in the user's language."""
    labels = {"credit": _("信用"), "guarantor": _("保证"), "mortgage": _("抵押"), "pledge": _("质押")}
    return labels.get(code, code)


def publish_product(session, institution, user, name, amount_min, amount_max, term_min, term_max,
                    rate_min, rate_max, guarantee_types, description=""):
    """Stage a published product of `institution`; amounts in 元, rates in % a year."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput(_("产品名称不能为空，且不超过 120 个字符。"), "name")
    validate_amount(amount_min, "amount_min")
    validate_amount(amount_max, "amount_max")
    if amount_min > amount_max:
        raise InvalidInput(_("最低额度不能高于最高额度。"), "amount_max")
    validate_term(term_min, "term_min")
    validate_term(term_max, "term_max")
    if term_min > term_max:
        raise InvalidInput(_("最短期限不能长于最长期限。"), "term_max")
    if rate_min is None or rate_max is None or not (Decimal(0) < rate_min <= rate_max <= Decimal(100)):
        raise InvalidInput(_("年化利率区间应满足 0 < 最低 ≤ 最高 ≤ 100%。"), "rate_max")
    if not guarantee_types or set(guarantee_types) - set(GUARANTEE_TYPES):
        raise InvalidInput(_("请至少选择一种担保方式。"), "guarantee_types")
    if len(description or "") > 2000:
        raise InvalidInput(_("产品说明不能超过 2000 个字符。"), "description")
    product = Product(institution=institution, name=name, description=description or "",
                      amount_min=amount_min, amount_max=amount_max, term_min_months=term_min,
                      term_max_months=term_max, rate_min=rate_min, rate_max=rate_max,
                      guarantee_types=list(guarantee_types), status="published",
                      published_at=utcnow(), created_by_id=user.id)
    session.add(product)
    session.flush()
    audit.record(session, user, "product.publish", product, name=name)
    return product


def retire_product(session, product, user):
    """Retire a published product: it stops matching; open applications go on."""
    if product.status != "published":
        raise NotAllowed(_("只有已发布的产品可以下架。"))
    product.status = "retired"
    product.retired_at = utcnow()
    audit.record(session, user, "product.retire", product)


def products_of(session, institution_id):
    """An institution's products, newest first."""
    query = select(Product).where(Product.institution_id == institution_id).order_by(Product.id.desc())
    return session.scalars(query).all()


def failed_rules(product, need):
    """The sentences of every range rule of `product` that `need` fails (empty: it fits)."""
    failures = []
    if not product.amount_min <= need.amount <= product.amount_max:
        failures.append(_("需求金额 %(a)s 万元不在产品额度 %(lo)s–%(hi)s 万元之内",
                          a=format_wan(need.amount), lo=format_wan(product.amount_min),
                          hi=format_wan(product.amount_max)))
    if not product.term_min_months <= need.term_months <= product.term_max_months:
        failures.append(_("需求期限 %(t)d 个月不在产品期限 %(lo)d–%(hi)d 个月之内",
                          t=need.term_months, lo=product.term_min_months, hi=product.term_max_months))
    if need.guarantee not in product.guarantee_types:
        failures.append(_("产品不接受“%(g)s”担保方式", g=guarantee_label(need.guarantee)))
    if need.max_rate is not None and product.rate_min > need.max_rate:
        failures.append(_("产品最低年化利率 %(r)s%% 高于可承受的 %(m)s%%",
                          r=format_rate(product.rate_min), m=format_rate(need.max_rate)))
    return failures


def products_for_need(session, need):
    """Published products of active institutions, split into those that fit and near misses."""
    query = (select(Product).join(Institution)
             .where(Product.status == "published", Institution.active.is_(True))
             .order_by(Product.rate_min, Product.id))
    fitting, others = [], []
    for product in session.scalars(query):
        failures = failed_rules(product, need)
        if failures:
            others.append((product, failures))
        else:
            fitting.append(product)
    return fitting, others
