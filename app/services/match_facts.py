"""The plain facts the matcher reads, gathered from the database: products' terms, needs' firms.

A firm's facts: its registration (kind, industry, town, age), its latest credit score, whether it
is on an active black or red list, how many periods of each required department source it has,
and the attributes a lender's own rules test (app/matching/rules.py ATTRIBUTES).
"""
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from app.common.dates import local_date
from app.credit.scoring import latest_per_subject
from app.entities import CreditScore, CreditSubject, Institution, Product, SourceRecord
from app.matching.tables import NeedFacts, ProductTerms

from . import list_kinds
from .publicity import publicity_rules

ID_BATCH = 5000
DAYS_A_YEAR = 365.25


def published_products(session, product_ids=None):
    """Published products of active institutions, by id; optionally only `product_ids`."""
    query = (select(Product).join(Institution)
             .where(Product.status == "published", Institution.active.is_(True)).order_by(Product.id))
    if product_ids is not None:
        query = query.where(Product.id.in_(list(product_ids)))
    return session.scalars(query).all()


def product_terms(product):
    """A product's current terms (from its columns)."""
    return ProductTerms(
        amount_min=product.amount_min, amount_max=product.amount_max, term_min=product.term_min_months,
        term_max=product.term_max_months, rate_min=product.rate_min, rate_max=product.rate_max,
        guarantee_types=tuple(product.guarantee_types), upfront_fee_pct=product.upfront_fee_pct or Decimal(0),
        guarantee_fee_pct=product.guarantee_fee_pct or Decimal(0), repayment=product.repayment or "annuity",
        rules=product.rules or {}, name=product.name, description=product.description or "")


def _batches(ids):
    ids = sorted(set(ids))
    for start in range(0, len(ids), ID_BATCH):
        yield ids[start:start + ID_BATCH]


def _months_back(day, months):
    """The first day of the month `months` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def latest_scores(session, subject_ids):
    """subject id → (grade, pd) of its latest score."""
    result = {}
    for batch in _batches(subject_ids):
        latest = latest_per_subject(CreditScore.subject_id.in_(batch))
        rows = session.execute(select(CreditScore.subject_id, CreditScore.grade, CreditScore.pd)
                               .join(latest, latest.c.id == CreditScore.id))
        result.update({sid: (grade, pd) for sid, grade, pd in rows})
    return result


def active_lists(session, subject_ids, today):
    """subject id → the measures of the red and black lists it is on today (app/services/lists.py)."""
    return list_kinds.active_measures(session, subject_ids, today)


def source_counts(session, subject_ids, key, today):
    """subject id → periods of the source in the window of `key` (`source:months`); records for months 0."""
    source, months = key.rsplit(":", 1)
    months = int(months)
    counted = func.count(func.distinct(SourceRecord.period)) if months else func.count(SourceRecord.id)
    result = {}
    for batch in _batches(subject_ids):
        query = (select(SourceRecord.subject_id, counted)
                 .where(SourceRecord.source == source, SourceRecord.superseded_by_id.is_(None),
                        SourceRecord.subject_id.in_(batch)).group_by(SourceRecord.subject_id))
        if months:
            lag = current_app.config["MATCH_SOURCE_LAG_MONTHS"]
            query = query.where(SourceRecord.period >= _months_back(today, months + lag))
        result.update(dict(session.execute(query).all()))
    return result


def _records(session, source, subject_ids, since=None):
    """subject id → [(period, payload)] of current records of `source`, oldest first."""
    result = {}
    for batch in _batches(subject_ids):
        query = (select(SourceRecord.subject_id, SourceRecord.period, SourceRecord.payload)
                 .where(SourceRecord.source == source, SourceRecord.superseded_by_id.is_(None),
                        SourceRecord.subject_id.in_(batch)).order_by(SourceRecord.period, SourceRecord.id))
        if since is not None:
            query = query.where(SourceRecord.period >= since)
        for sid, period, payload in session.execute(query):
            result.setdefault(sid, []).append((period, payload))
    return result


def _latest(session, source, field, subject_ids):
    return {sid: rows[-1][1].get(field) for sid, rows in _records(session, source, subject_ids).items()}


def _revenue_12m(session, subject_ids, today):
    since = _months_back(today, 12 + current_app.config["MATCH_SOURCE_LAG_MONTHS"])
    records = _records(session, "tax_filing", subject_ids, since)
    return {sid: sum(float(p.get("revenue") or 0) for _period, p in rows[-12:]) / 10_000
            for sid, rows in records.items()}


def _dishonest(session, subject_ids, _today):
    records = _records(session, "court_case", subject_ids)
    flagged = {sid for sid, rows in records.items()
               if any(p.get("dishonest") and p.get("status") != "closed" for _period, p in rows)}
    return {sid: sid in flagged for sid in subject_ids}


def _serious_penalty(session, subject_ids, today):
    records = _records(session, "penalty", subject_ids)
    rules = publicity_rules(today)
    flagged = {sid for sid, rows in records.items()
               if any(p.get("severity") == "serious" and rules.in_force(p) for _period, p in rows)}
    return {sid: sid in flagged for sid in subject_ids}


def _procurement(session, subject_ids, today):
    records = _records(session, "procurement", subject_ids, today - timedelta(days=3 * 365))
    return {sid: len(records.get(sid, ())) for sid in subject_ids}


def attribute_values(session, name, subjects, today):
    """subject id → value of the firm attribute `name` (None when its data is missing)."""
    ids = list(subjects)
    if name == "registered_capital_wan":
        return {sid: None if s.registered_capital is None else float(s.registered_capital) / 10_000
                for sid, s in subjects.items()}
    if name == "size_class":
        return {sid: s.size_class for sid, s in subjects.items()}
    loaders = {
        "tax_grade": lambda: _latest(session, "tax_grade", "grade", ids),
        "insured_headcount": lambda: _latest(session, "social_insurance", "insured", ids),
        "tax_arrears_yuan": lambda: _latest(session, "tax_filing", "arrears", ids),
        "revenue_12m_wan": lambda: _revenue_12m(session, ids, today),
        "dishonest_debtor": lambda: _dishonest(session, ids, today),
        "serious_penalty": lambda: _serious_penalty(session, ids, today),
        "procurement_wins_3y": lambda: _procurement(session, ids, today),
    }
    return loaders[name]()


def firm_age_years(established_on, today):
    """Years since establishment, or None when unknown."""
    return None if established_on is None else (today - established_on).days / DAYS_A_YEAR


def need_facts(session, needs, source_keys=(), attribute_names=(), today=None):
    """The facts of each need's firm, in the order of `needs`."""
    today = today or local_date()
    subject_ids = {n.subject_id for n in needs}
    subjects = {s.id: s for batch in _batches(subject_ids)
                for s in session.scalars(select(CreditSubject).where(CreditSubject.id.in_(batch)))}
    scores = latest_scores(session, subject_ids)
    measures = active_lists(session, subject_ids, today)
    counts = {key: source_counts(session, subject_ids, key, today) for key in source_keys}
    attributes = {name: attribute_values(session, name, subjects, today) for name in attribute_names}
    facts = []
    for need in needs:
        subject = subjects[need.subject_id]
        grade, pd = scores.get(subject.id, (None, None))
        facts.append(NeedFacts(
            need_id=need.id, subject_id=subject.id, amount=need.amount, term_months=need.term_months,
            guarantee=need.guarantee, max_rate=need.max_rate, kind=subject.kind, industry=subject.industry_code,
            town=subject.town_code, age_years=firm_age_years(subject.established_on, today), grade=grade, pd=pd,
            source_counts={key: counts[key].get(subject.id, 0) for key in source_keys},
            blacklisted="no_credit_loans" in measures.get(subject.id, ()),
            redlisted="priority" in measures.get(subject.id, ()),
            attributes={name: attributes[name].get(subject.id) for name in attribute_names}))
    return facts
