"""For the regulator: needs that found no eligible product, and why (from the stored matches)."""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.entities import FinancingNeed, Match, Product

MAX_NEEDS = 200
CLOSEST = 3


@dataclass
class UnmatchedNeed:
    """An open need with no eligible product: how often each rule failed, and the closest products."""

    need: FinancingNeed
    evaluated: int = 0
    failed_rules: Counter = field(default_factory=Counter)
    closest: list = field(default_factory=list)


def _unmatched():
    has_eligible = select(Match.id).where(Match.need_id == FinancingNeed.id, Match.eligible.is_(True)).exists()
    return (FinancingNeed.status == "open", ~has_eligible)


def unmatched_count(session):
    """How many open needs have no eligible stored match."""
    return session.scalar(select(func.count(FinancingNeed.id)).where(*_unmatched()))


def unmatched_needs(session, limit=MAX_NEEDS):
    """Open needs without an eligible stored match (newest first), each with its failed rules."""
    needs = session.scalars(select(FinancingNeed).where(*_unmatched())
                            .order_by(FinancingNeed.id.desc()).limit(limit)).all()
    result = {n.id: UnmatchedNeed(n) for n in needs}
    if not needs:
        return []
    rows = session.execute(select(Match, Product).join(Product, Product.id == Match.product_id)
                           .where(Match.need_id.in_(list(result))).order_by(Match.failed_count, Match.product_id))
    for match, product in rows:
        entry = result[match.need_id]
        entry.evaluated += 1
        entry.failed_rules.update(r["rule"] for r in match.rule_results if not r["passed"])
        if len(entry.closest) < CLOSEST:
            entry.closest.append((product, [r for r in match.rule_results if not r["passed"]]))
    return list(result.values())


def unmatched_rule_totals(session, limit=MAX_NEEDS):
    """failed_rule_totals of unmatched_needs(session, limit), read without loading the needs and products."""
    newest = select(FinancingNeed.id).where(*_unmatched()).order_by(FinancingNeed.id.desc()).limit(limit)
    total = Counter()
    for (results,) in session.execute(select(Match.rule_results).where(Match.need_id.in_(newest.scalar_subquery()))):
        total.update(r["rule"] for r in results if not r["passed"])
    return total.most_common()


def failed_rule_totals(entries):
    """How many (need, product) verdicts each rule failed, over all `entries`, most first."""
    total = Counter()
    for entry in entries:
        total.update(entry.failed_rules)
    return total.most_common()
