"""Hypothesis strategies: needs and products drawn from small vocabularies, so boundaries are hit often."""
from decimal import Decimal

from hypothesis import strategies as st

from app.common.vocab import GUARANTEE_TYPES, REPAYMENT_METHODS, SUBJECT_KINDS
from app.matching.tables import NeedFacts, ProductTerms

GRADES = ("A", "B", "C", "D", "E")
TOWNS = ("610203001", "610203100", "610203101")
INDUSTRIES = ("0151", "3074", "3021", "5430", "6210", "30")
INDUSTRY_TOKENS = ("A", "C", "30", "307", "3074", "54", "0151")
SOURCE_OPTIONS = (("tax_filing", 12), ("tax_filing", 6), ("social_insurance", 6), ("registration", 0))
AMOUNTS = [Decimal(v) for v in ("10000.00", "49999.99", "50000.00", "100000.00", "100000.01", "2000000.00")]
RATES = [Decimal(v) for v in ("3.5", "3.85", "4.35", "6", "12.5")]


def _subset(values):
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values)).map(sorted)


@st.composite
def extra_rule(draw):
    name = draw(st.sampled_from(("revenue_12m_wan", "tax_grade", "dishonest_debtor", "size_class")))
    if name == "revenue_12m_wan":
        return {"attribute": name, "operator": draw(st.sampled_from(("ge", "le", "eq", "ne"))),
                "value": float(draw(st.sampled_from((0, 50, 100, 300))))}
    if name == "dishonest_debtor":
        return {"attribute": name, "operator": "eq", "value": draw(st.booleans())}
    choices = ("A", "B", "M", "C", "D") if name == "tax_grade" else ("micro", "small", "medium")
    operator = draw(st.sampled_from(("eq", "ne", "in", "not_in")))
    value = draw(st.sampled_from(choices)) if operator in ("eq", "ne") else draw(
        st.lists(st.sampled_from(choices), min_size=1, unique=True, max_size=3))
    return {"attribute": name, "operator": operator, "value": value}


@st.composite
def product_rules(draw):
    sources = draw(st.lists(st.sampled_from(SOURCE_OPTIONS), unique_by=lambda s: s[0], max_size=2))
    return {
        "subject_kinds": draw(_subset(SUBJECT_KINDS)), "industries": draw(_subset(INDUSTRY_TOKENS)),
        "towns": draw(_subset(TOWNS)),
        "min_age_years": draw(st.one_of(st.none(), st.sampled_from((1.0, 1.5, 2.0, 5.0)))),
        "min_grade": draw(st.one_of(st.none(), st.sampled_from(GRADES))),
        "max_pd": draw(st.one_of(st.none(), st.sampled_from((0.02, 0.05, 0.1)))),
        "unscored_pass": draw(st.booleans()),
        "required_sources": [{"source": s, "months": m} for s, m in sources],
        "blacklist_policy": draw(st.sampled_from(("exclude", "review"))),
        "red_list_priority": draw(st.booleans()), "extra": draw(st.lists(extra_rule(), max_size=3)),
    }


@st.composite
def products(draw):
    amount_min, amount_max = sorted(draw(st.lists(st.sampled_from(AMOUNTS), min_size=2, max_size=2)))
    term_min, term_max = sorted(draw(st.lists(st.sampled_from((1, 3, 6, 12, 36)), min_size=2, max_size=2)))
    rate_min, rate_max = sorted(draw(st.lists(st.sampled_from(RATES), min_size=2, max_size=2)))
    return ProductTerms(
        amount_min=amount_min, amount_max=amount_max, term_min=term_min, term_max=term_max, rate_min=rate_min,
        rate_max=rate_max,
        guarantee_types=tuple(draw(st.lists(st.sampled_from(GUARANTEE_TYPES), min_size=1, unique=True))),
        rules=draw(product_rules()), upfront_fee_pct=draw(st.sampled_from((Decimal(0), Decimal("1.5")))),
        guarantee_fee_pct=draw(st.sampled_from((Decimal(0), Decimal(1)))),
        repayment=draw(st.sampled_from(REPAYMENT_METHODS)))


@st.composite
def needs(draw, need_id=1):
    scored = draw(st.booleans())
    attributes = {
        "revenue_12m_wan": draw(st.one_of(st.none(), st.sampled_from((0.0, 50.0, 99.5, 100.0, 300.0)))),
        "tax_grade": draw(st.one_of(st.none(), st.sampled_from(("A", "B", "M", "C", "D")))),
        "dishonest_debtor": draw(st.one_of(st.none(), st.booleans())),
        "size_class": draw(st.one_of(st.none(), st.sampled_from(("micro", "small", "medium")))),
    }
    return NeedFacts(
        need_id=need_id, subject_id=need_id, amount=draw(st.sampled_from(AMOUNTS + [Decimal("4000000.01")])),
        term_months=draw(st.sampled_from((1, 2, 3, 6, 12, 24, 36, 48))),
        guarantee=draw(st.sampled_from(GUARANTEE_TYPES)),
        max_rate=draw(st.one_of(st.none(), st.sampled_from(RATES))), kind=draw(st.sampled_from(SUBJECT_KINDS)),
        industry=draw(st.one_of(st.none(), st.sampled_from(INDUSTRIES))), town=draw(st.sampled_from(TOWNS)),
        age_years=draw(st.one_of(st.none(), st.sampled_from((0.5, 1.0, 1.5, 1.99, 2.0, 10.0)))),
        grade=draw(st.sampled_from(GRADES)) if scored else None,
        pd=draw(st.sampled_from((0.01, 0.02, 0.05, 0.1, 0.3))) if scored else None,
        source_counts={f"{s}:{m}": draw(st.integers(0, 13)) for s, m in SOURCE_OPTIONS},
        blacklisted=draw(st.booleans()), redlisted=draw(st.booleans()), attributes=attributes)


@st.composite
def market_sides(draw, max_needs=6, max_products=6):
    """(needs with distinct ids, products)."""
    need_count = draw(st.integers(1, max_needs))
    product_count = draw(st.integers(1, max_products))
    return ([draw(needs(need_id=k + 1)) for k in range(need_count)],
            [draw(products()) for _ in range(product_count)])
