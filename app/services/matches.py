"""Matching needs and products (金融产品智能匹配), and re-matching when either side changes.

A firm's need page is evaluated live (one need against every published product); the verdicts
are also stored as `Match` rows — eligible pairs with every rule's result and their fit, near
misses and, for a need that found nothing, every failing pair with its failed rules — for the
lender's screening and the regulator. Flows that change a need, a product, a score or a list entry
call `rematch_need`, `rematch_product` or `rematch_subject`; none of them commits.
"""
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from sqlalchemy import delete, insert, select

from app.entities import FinancingNeed, Match
from app.entities.base import utcnow
from app.matching.engine import evaluate
from app.matching.explain import needs_review, rule_results, sentence
from app.matching.fit import rank
from app.matching.matcher import order
from app.matching.tables import NeedTable, ProductTable

from .market import market_for
from .match_facts import need_facts, product_terms, published_products

REMATCH_BATCH = 2000


@dataclass
class ProductMatch:
    """One product's verdict for a need: every rule's result and, when eligible, its fit."""

    product: object
    results: list
    fit: float | None = None
    odds: float | None = None
    odds_basis: str = "none"
    evidence: int = 0
    apr: float | None = None
    coverage: float | None = None
    response_days: float | None = None
    priority: bool = False

    @property
    def failed(self):
        return [r for r in self.results if not r["passed"]]

    @property
    def review(self):
        """Blacklisted firm, product that reviews rather than excludes."""
        return needs_review(self.results)

    def reasons(self):
        """The failed rules' sentences in the user's language."""
        return [sentence(r) for r in self.failed]


@dataclass
class NeedMatches:
    """A need's products: eligible (best fit first), near misses, and the rest."""

    eligible: list = field(default_factory=list)
    near_misses: list = field(default_factory=list)
    others: list = field(default_factory=list)


class Evaluation:
    """Needs evaluated against products: the tables, the failed-rule masks and (lazily) the market."""

    def __init__(self, session, needs, products=None):
        config = current_app.config
        self.session = session
        self.grades = tuple(config["CREDIT_GRADES"])
        self.coverage = config["MATCH_MIN_COVERAGE_PCT"]
        self.near_max = config["MATCH_NEAR_MISS_MAX_FAILED"]
        self.products = published_products(session) if products is None else list(products)
        self.rules = [p.rules or {} for p in self.products]
        self.ptable = ProductTable.from_terms([product_terms(p) for p in self.products], self.grades)
        self.needs = list(needs)
        facts = need_facts(session, self.needs, self.ptable.source_keys, self.ptable.attribute_names)
        self.ntable = NeedTable.from_facts(facts, self.grades, self.ptable.source_keys, self.ptable.attribute_names)
        self.failed = evaluate(self.ntable, self.ptable, self.coverage)
        self._market = None

    @property
    def market(self):
        if self._market is None:
            self._market = market_for(self.session, self.ptable)
        return self._market

    def ranking(self, i, cols):
        """Fit and its parts of need `i` with products `cols`."""
        rows = np.full(len(cols), i, dtype=np.int64)
        return rank(self.ntable, self.ptable, self.market, rows, np.asarray(cols, dtype=np.int64),
                    apr_reference=current_app.config["MATCH_APR_REFERENCE_PCT"])

    def results(self, i, j):
        """Every rule's result for need `i` and product `j`."""
        return rule_results(self.ntable, i, self.ptable, j, self.failed[i, j], self.rules[j], self.coverage)

    def product_match(self, i, j, ranking=None, k=None):
        """The verdict of need `i` and product `j` (with its fit from `ranking[k]` when eligible)."""
        match = ProductMatch(self.products[j], self.results(i, j))
        if ranking is not None:
            odds = ranking["odds"][k]
            match.fit, match.apr = float(ranking["fit"][k]), float(ranking["apr"][k])
            match.odds = None if np.isnan(odds) else float(odds)
            match.odds_basis, match.evidence = self.market.basis[j], int(self.market.evidence[j])
            match.coverage, match.priority = float(ranking["coverage"][k]), bool(ranking["priority"][k])
            match.response_days = float(ranking["response_days"][k])
        return match

    def eligible(self, i):
        """Need `i`'s eligible products ranked: (product positions, ranking, order)."""
        cols = np.flatnonzero(self.failed[i] == 0)
        ranking = self.ranking(i, cols) if len(cols) else None
        return cols, ranking, (order(ranking["fit"], ranking["priority"]) if len(cols) else [])


def evaluate_need(session, need):
    """The need's products: eligible ranked by fit, near misses and others with their failed rules."""
    evaluation = Evaluation(session, [need])
    cols, ranking, ranked = evaluation.eligible(0)
    result = NeedMatches(eligible=[evaluation.product_match(0, cols[k], ranking, k) for k in ranked])
    counts = np.bitwise_count(evaluation.failed[0])
    for j in sorted(np.flatnonzero(counts > 0), key=lambda j: (counts[j], evaluation.products[j].id)):
        target = result.near_misses if counts[j] <= evaluation.near_max else result.others
        target.append(evaluation.product_match(0, j))
    return result


def failed_reasons(session, product, need):
    """The sentences of the rules of `product` that `need` fails (empty: it is eligible)."""
    evaluation = Evaluation(session, [need], [product])
    return [sentence(r) for r in evaluation.results(0, 0) if not r["passed"]]


def _row(evaluation, i, j, now, ranking=None, k=None):
    results = evaluation.results(i, j)
    failed = [r for r in results if not r["passed"]]
    product = evaluation.products[j]
    row = {"need_id": evaluation.needs[i].id, "product_id": product.id, "product_version": product.version,
           "eligible": not failed, "failed_count": len(failed), "rule_results": failed or results,
           "fit": None, "approval_odds": None, "apr": None, "computed_at": now}
    if ranking is not None:
        odds = ranking["odds"][k]
        row.update(fit=float(ranking["fit"][k]), apr=float(ranking["apr"][k]),
                   approval_odds=None if np.isnan(odds) else float(odds))
    return row


def _rows_of_need(evaluation, i, now, has_other_eligible=False):
    """Rows to store for need `i`: eligible and near misses; every pair when nothing is eligible."""
    cols, ranking, _order = evaluation.eligible(i)
    rows = [_row(evaluation, i, j, now, ranking, k) for k, j in enumerate(cols)]
    counts = np.bitwise_count(evaluation.failed[i])
    keep_all = not len(cols) and not has_other_eligible
    rows += [_row(evaluation, i, j, now) for j in np.flatnonzero(counts > 0)
             if keep_all or counts[j] <= evaluation.near_max]
    return rows


def rematch_needs(session, needs):
    """Re-evaluate `needs` against every published product and replace their stored matches."""
    needs = [n for n in needs if n.status == "open"]
    for start in range(0, len(needs), REMATCH_BATCH):
        batch = needs[start:start + REMATCH_BATCH]
        evaluation = Evaluation(session, batch)
        now = utcnow()
        rows = [row for i in range(len(batch)) for row in _rows_of_need(evaluation, i, now)]
        session.execute(delete(Match).where(Match.need_id.in_([n.id for n in batch])))
        if rows:
            session.execute(insert(Match), rows)
    return len(needs)


def rematch_need(session, need):
    """Re-match one need (after it is posted or changed); a closed need loses its matches."""
    session.flush()
    if need.status != "open":
        session.execute(delete(Match).where(Match.need_id == need.id))
        return 0
    return rematch_needs(session, [need])


def open_needs(session, subject_id=None):
    """Open needs, optionally of one subject."""
    query = select(FinancingNeed).where(FinancingNeed.status == "open").order_by(FinancingNeed.id)
    if subject_id is not None:
        query = query.where(FinancingNeed.subject_id == subject_id)
    return session.scalars(query).all()


def rematch_subject(session, subject_id):
    """Re-match a firm's open needs (after its score or a list entry about it changes)."""
    session.flush()
    return rematch_needs(session, open_needs(session, subject_id))


def rematch_product(session, product):
    """Replace one product's stored matches with every open need (after it is published, edited or retired)."""
    session.flush()
    session.execute(delete(Match).where(Match.product_id == product.id))
    live = product.status == "published" and product.institution.active
    needs = open_needs(session) if live else []
    if not needs:
        return 0
    others = set(session.scalars(select(Match.need_id).where(Match.eligible.is_(True))))
    evaluation = Evaluation(session, needs, [product])
    now = utcnow()
    rows = []
    for i, need in enumerate(needs):
        rows += _rows_of_need(evaluation, i, now, has_other_eligible=need.id in others)
    if rows:
        session.execute(insert(Match), rows)
    return len(needs)


def rematch_all(session):
    """Re-match every open need against every published product."""
    session.flush()
    return rematch_needs(session, open_needs(session))
