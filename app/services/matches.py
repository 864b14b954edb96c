"""Matching needs and products (金融产品智能匹配), and re-matching when either side changes.

Every evaluation takes the engine's one path (`app.matching.matcher`): a firm's need page
(`evaluate_need`, live: one need against every published product), the re-match of a need, a firm
or a product after it changes (`rematch_need`, `rematch_subject`, `rematch_product`) and the full
re-match of the district (`rematch_all`, which `flask matches refresh` runs as a recorded run).
Re-matches store `Match` rows — eligible pairs with every rule's result and their fit, near misses
and, for a need that found nothing, every failing pair with its failed rules — which the lender's
screening and the regulator's page read. Nothing here commits.
"""
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from sqlalchemy import delete, or_, select

from app.entities import CreditSubject, FinancingNeed, Institution, Match, Product
from app.entities.base import utcnow
from app.matching.explain import needs_review, rule_results, sentence
from app.matching.fit import coverage, response_days
from app.matching.matcher import match_one, screen
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


class Catalogue:
    """Products as the engine reads them (the published ones unless given), with the settings and market."""

    def __init__(self, session, products=None):
        config = current_app.config
        self.session = session
        self.grades = tuple(config["CREDIT_GRADES"])
        self.min_coverage = config["MATCH_MIN_COVERAGE_PCT"]
        self.near_max = config["MATCH_NEAR_MISS_MAX_FAILED"]
        self.fit_settings = {"apr_reference": config["MATCH_APR_REFERENCE_PCT"]}
        self.products = published_products(session) if products is None else list(products)
        self.rules = [p.rules or {} for p in self.products]
        self.ids = [p.id for p in self.products]
        self.versions = [p.version for p in self.products]
        self.table = ProductTable.from_terms([product_terms(p) for p in self.products], self.grades, self.ids,
                                             [p.institution_id for p in self.products])
        self._market = None

    def __len__(self):
        return len(self.products)

    @property
    def market(self):
        if self._market is None:
            self._market = market_for(self.session, self.table)
        return self._market

    def need_table(self, needs):
        """`needs` with their firms' facts (those these products' rules read) as the engine's table."""
        keys, names = self.table.source_keys, self.table.attribute_names
        return NeedTable.from_facts(need_facts(self.session, needs, keys, names), self.grades, keys, names)

    def screen(self, ntable, matched_elsewhere=None):
        """The engine's chunks of `ntable` against these products: what a re-match stores."""
        return screen(ntable, self.table, self.market, self.min_coverage, self.near_max,
                      matched_elsewhere=matched_elsewhere, fit_settings=self.fit_settings)

    def verdict(self, ntable):
        """The one need of `ntable` against every product, in the order a firm sees them."""
        return match_one(ntable, self.table, self.market, self.min_coverage, self.fit_settings)

    def results(self, ntable, i, j, mask, only_failed=False):
        """Every rule's result (or only the failed ones) of need `i` and product `j`."""
        return rule_results(ntable, i, self.table, j, mask, self.rules[j], self.min_coverage, only_failed)


def _float(value):
    return None if np.isnan(value) else float(value)


def evaluate_need(session, need):
    """The need's products: eligible ranked by fit, near misses and others with their failed rules."""
    catalogue = Catalogue(session)
    result = NeedMatches()
    if not len(catalogue):
        return result
    ntable = catalogue.need_table([need])
    verdict, market = catalogue.verdict(ntable), catalogue.market
    cols = verdict.cols.astype(np.int64)
    covered = coverage(ntable, catalogue.table, np.zeros(len(cols), dtype=np.int64), cols)
    days = response_days(market, cols)
    for k, j in enumerate(cols):
        result.eligible.append(ProductMatch(
            catalogue.products[j], catalogue.results(ntable, 0, j, 0), fit=float(verdict.fit[k]),
            odds=_float(verdict.odds[k]), odds_basis=market.basis[j], evidence=int(market.evidence[j]),
            apr=float(verdict.apr[k]), coverage=float(covered[k]), response_days=float(days[k]),
            priority=bool(verdict.priority[k])))
    for j, mask, count in zip(verdict.failed_cols, verdict.failed_masks, verdict.failed_counts, strict=True):
        target = result.near_misses if count <= catalogue.near_max else result.others
        target.append(ProductMatch(catalogue.products[j], catalogue.results(ntable, 0, j, mask)))
    return result


def failed_reasons(session, product, need):
    """The sentences of the rules of `product` that `need` fails (empty: it is eligible)."""
    catalogue = Catalogue(session, [product])
    ntable = catalogue.need_table([need])
    verdict = catalogue.verdict(ntable)
    if len(verdict.cols):
        return []
    return [sentence(r) for r in catalogue.results(ntable, 0, 0, verdict.failed_masks[0], only_failed=True)]


def _rows(catalogue, needs, ntable, chunk, now):
    """The Match rows of one chunk: eligible pairs with every rule's result, failing pairs with the failed ones."""
    rows = []

    def pair(i, j):
        return {"need_id": needs[i].id, "product_id": catalogue.ids[j], "product_version": catalogue.versions[j],
                "computed_at": now}

    for i, j, fit, odds, apr in zip(chunk.rows, chunk.cols, chunk.fit, chunk.odds, chunk.apr, strict=True):
        results = catalogue.results(ntable, i, j, 0)
        rows.append({**pair(i, j), "eligible": True, "failed_count": 0, "rule_results": results,
                     "fit": float(fit), "approval_odds": _float(odds), "apr": float(apr)})
    for i, j, mask in zip(chunk.failed_rows, chunk.failed_cols, chunk.failed_masks, strict=True):
        failed = catalogue.results(ntable, i, j, mask, only_failed=True)
        rows.append({**pair(i, j), "eligible": False, "failed_count": len(failed), "rule_results": failed,
                     "fit": None, "approval_odds": None, "apr": None})
    return rows


def _in_batches(needs):
    for start in range(0, len(needs), REMATCH_BATCH):
        yield needs[start:start + REMATCH_BATCH]


def _store(session, batches, catalogue, replace=True, matched_elsewhere=frozenset()):
    """Evaluate each batch of needs against the catalogue and store what it keeps; yields the rows stored.

    `replace` deletes the needs' earlier matches first; `matched_elsewhere` holds the ids of needs
    with an eligible match outside the catalogue.
    """
    for batch in batches:
        rows = []
        if len(catalogue) and batch:
            ntable, now = catalogue.need_table(batch), utcnow()
            elsewhere = np.array([n.id in matched_elsewhere for n in batch], dtype=bool)
            for chunk in catalogue.screen(ntable, elsewhere):
                rows += _rows(catalogue, batch, ntable, chunk, now)
        if replace:
            session.execute(delete(Match).where(Match.need_id.in_([n.id for n in batch])))
        if rows:
            session.execute(Match.__table__.insert(), rows)
        yield len(rows)


def open_needs(session, subject_id=None):
    """Open needs, optionally of one subject."""
    query = select(FinancingNeed).where(FinancingNeed.status == "open").order_by(FinancingNeed.id)
    if subject_id is not None:
        query = query.where(FinancingNeed.subject_id == subject_id)
    return session.scalars(query).all()


def eligible_needs(session, product):
    """(fit, need, firm) of every open need the stored matches find eligible for `product`."""
    return session.execute(
        select(Match.fit, FinancingNeed, CreditSubject)
        .join(FinancingNeed, FinancingNeed.id == Match.need_id)
        .join(CreditSubject, CreditSubject.id == FinancingNeed.subject_id)
        .where(Match.product_id == product.id, Match.eligible.is_(True), FinancingNeed.status == "open")).all()


def rematch_needs(session, needs):
    """Re-evaluate `needs` against every published product and replace their stored matches; returns the rows."""
    needs = [n for n in needs if n.status == "open"]
    return sum(_store(session, _in_batches(needs), Catalogue(session)))


def rematch_need(session, need):
    """Re-match one need (after it is posted or changed); a closed need loses its matches. Returns the rows."""
    session.flush()
    if need.status != "open":
        session.execute(delete(Match).where(Match.need_id == need.id))
        return 0
    return rematch_needs(session, [need])


def rematch_subject(session, subject_id):
    """Re-match a firm's open needs (after its score or a list entry about it changes); returns the rows."""
    session.flush()
    return rematch_needs(session, open_needs(session, subject_id))


def rematch_product(session, product):
    """Replace a product's stored matches (after it is published, edited or retired); returns the rows."""
    session.flush()
    session.execute(delete(Match).where(Match.product_id == product.id))
    live = product.status == "published" and product.institution.active
    needs = open_needs(session) if live else []
    if not needs:
        return 0
    others = set(session.scalars(select(Match.need_id).where(Match.eligible.is_(True))))
    return sum(_store(session, _in_batches(needs), Catalogue(session, [product]), replace=False,
                      matched_elsewhere=others))


def _open_need_batches(session, need_ids):
    """The needs of `need_ids` still open, a batch at a time, each read afresh (a run commits between batches)."""
    for start in range(0, len(need_ids), REMATCH_BATCH):
        ids = need_ids[start:start + REMATCH_BATCH]
        yield session.scalars(select(FinancingNeed).where(FinancingNeed.id.in_(ids), FinancingNeed.status == "open")
                              .order_by(FinancingNeed.id)).all()


def rematch_all(session, on_batch=None):
    """Re-match every open need against every published product; returns the figures.

    Matches of needs no longer open and of products no longer published (or whose institution was
    deactivated) are removed. `on_batch(needs done, needs in all, rows stored)` follows the progress.
    """
    session.flush()
    live = select(Product.id).join(Institution).where(Product.status == "published", Institution.active.is_(True))
    still_open = select(FinancingNeed.id).where(FinancingNeed.status == "open")
    session.execute(delete(Match).where(or_(Match.need_id.not_in(still_open), Match.product_id.not_in(live))))
    need_ids = session.scalars(still_open.order_by(FinancingNeed.id)).all()
    catalogue = Catalogue(session)
    stored = 0
    for done, rows in enumerate(_store(session, _open_need_batches(session, need_ids), catalogue), start=1):
        stored += rows
        if on_batch is not None:
            on_batch(min(done * REMATCH_BATCH, len(need_ids)), len(need_ids), stored)
    return {"needs": len(need_ids), "products": len(catalogue), "pairs": len(need_ids) * len(catalogue),
            "stored": stored}
