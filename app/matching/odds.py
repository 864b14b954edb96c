"""Approval odds learnt from past decisions by product, institution and grade level, and the
reliability tables that check them on later decisions.

Evidence: the platform's decided applications (each names its product and institution) and the
ingested past decisions (`application_history`) of an institution, which name no product. Each
decision sits at a grade level (the grades, then "unscored"). Per level the odds are the posterior
mean of a Beta–binomial model, each step shrunk towards the step above with `m` pseudo-decisions
(`prior_strength`) at that step's rate:

    grade(level)       = (approved + m × overall) / (decided + m)          over every decision
    institution(level) = (approved + m × grade(level)) / (decided + m)     its decisions on other products
    product(level)     = (approved + m × institution(level)) / (decided + m)   its own decisions

so a product with 3 decisions at a level stays near its institution's (or the grade's) rate and one
with 300 follows its own. The basis says what the number rests on: the product's own decisions
(at least `min_decisions` of them), else its institution's, else only the grade's market rate
(the number shown is then that rate); with fewer than `market_min_decisions` decisions in the
whole market the odds are unknown.
"""
from dataclasses import dataclass

import numpy as np

PRODUCT, INSTITUTION, SCORE, NONE = "product", "institution", "score", "none"


@dataclass
class Decisions:
    """Past decisions: product (−1 when only the institution is known), institution, level, outcome, day."""

    product: np.ndarray
    institution: np.ndarray
    level: np.ndarray
    approved: np.ndarray
    day: np.ndarray

    def __len__(self):
        return len(self.approved)

    def subset(self, rows):
        """The decisions at `rows`."""
        return Decisions(self.product[rows], self.institution[rows], self.level[rows], self.approved[rows],
                         self.day[rows])


def _counts(level, approved, levels):
    return (np.bincount(level, weights=approved.astype(np.float64), minlength=levels)[:levels],
            np.bincount(level, minlength=levels)[:levels].astype(np.float64))


def shrunk(approved, decided, prior, strength):
    """The posterior mean of a Beta–binomial rate: `strength` pseudo-decisions at the `prior` rate."""
    return (approved + strength * prior) / (decided + strength)


class OddsCalibration:
    """Per-product approval odds by grade level; fit on `Decisions`, then `table` for products."""

    def __init__(self, levels, min_decisions=30, market_min_decisions=30, prior_strength=10):
        self.levels = levels
        self.min_decisions = min_decisions
        self.market_min_decisions = market_min_decisions
        self.prior_strength = prior_strength

    def fit(self, decisions):
        """Count approvals and decisions by level: pooled, per product, per institution."""
        approved, decided = _counts(decisions.level, decisions.approved, self.levels)
        self.decided_ = int(decided.sum())
        overall = (approved.sum() + 1) / (decided.sum() + 2)
        self.base_ = shrunk(approved, decided, overall, self.prior_strength)
        self.by_product_ = self._grouped(decisions, decisions.product >= 0, decisions.product)
        self.by_institution_ = self._grouped(decisions, decisions.institution >= 0, decisions.institution)
        return self

    def _grouped(self, decisions, keep, keys):
        groups = {}
        for key in np.unique(keys[keep]):
            rows = keep & (keys == key)
            groups[int(key)] = _counts(decisions.level[rows], decisions.approved[rows], self.levels)
        return groups

    def _one(self, product, institution):
        """(odds by level, basis, decisions behind the basis) of one product."""
        empty = (np.zeros(self.levels), np.zeros(self.levels))
        own_a, own_n = self.by_product_.get(int(product), empty)
        inst_a, inst_n = self.by_institution_.get(int(institution), empty)
        m = self.prior_strength
        # The institution's prior leaves out the product's own decisions, so they count once.
        institution_rate = shrunk(inst_a - own_a, inst_n - own_n, self.base_, m)
        posterior = shrunk(own_a, own_n, institution_rate, m)
        if own_n.sum() >= self.min_decisions:
            return posterior, PRODUCT, int(own_n.sum())
        if inst_n.sum() >= self.min_decisions:
            return posterior, INSTITUTION, int(inst_n.sum())
        if self.decided_ >= self.market_min_decisions:
            return self.base_, SCORE, int(own_n.sum())
        return np.full(self.levels, np.nan), NONE, int(own_n.sum())

    def table(self, product_ids, institution_ids):
        """(odds per product and level, basis per product, decisions behind each product's basis)."""
        count = len(product_ids)
        odds = np.full((count, self.levels), np.nan)
        basis = np.full(count, NONE, dtype=object)
        evidence = np.zeros(count, dtype=np.int64)
        for j, (product, institution) in enumerate(zip(product_ids, institution_ids, strict=True)):
            odds[j], basis[j], evidence[j] = self._one(product, institution)
        return odds, basis, evidence

    def predict(self, decisions):
        """The odds this calibration gives each decision's product and level (NaN when unknown)."""
        pairs = np.stack([decisions.product, decisions.institution], axis=1)
        unique, position = np.unique(pairs, axis=0, return_inverse=True)
        odds, _basis, _evidence = self.table(unique[:, 0], unique[:, 1])
        return odds[position.reshape(-1), decisions.level]


def wilson(successes, trials, z=1.96):
    """The Wilson 95 % interval of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _judged(p, y):
    """Count, mean prediction, observed rate, its Wilson interval and whether it holds the mean."""
    n = len(p)
    mean, observed = float(p.mean()), float(y.mean())
    low, high = wilson(float(y.sum()), n)
    return {"n": n, "predicted": mean, "observed": observed, "low": low, "high": high,
            "honest": low <= mean <= high}


def _by_bin(p, y, bins):
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    return [{"from": b / bins, "to": (b + 1) / bins, **_judged(p[which == b], y[which == b])}
            for b in range(bins) if (which == b).any()]


def _by_product(fitted, train, test, predicted, min_checked):
    """One row per product with platform decisions: its odds on its later decisions against what happened."""
    rows = []
    for product in np.unique(np.concatenate([train.product, test.product])):
        if product < 0:
            continue
        mine = (test.product == product) & ~np.isnan(predicted)
        institution = int(np.concatenate([train.institution[train.product == product],
                                          test.institution[test.product == product]])[0])
        _odds, basis, _evidence = fitted.table([product], [institution])
        row = {"product": int(product), "institution": institution, "basis": basis[0],
               "train": int((train.product == product).sum()), "n": int(mine.sum()),
               "enough": bool(mine.sum() >= min_checked)}
        if row["n"]:
            row.update(_judged(predicted[mine], test.approved[mine].astype(np.float64)))
        rows.append(row)
    return rows


def reliability(decisions, levels, holdout_share=0.25, bins=10, min_checked=20, **settings):
    """Fit on the earlier decisions, predict the later ones, and compare by bins of predicted odds
    and by product (a product with fewer than `min_checked` later decisions is not judged)."""
    order = np.argsort(decisions.day, kind="stable")
    cut = int(round(len(order) * (1 - holdout_share)))
    train, test = decisions.subset(order[:cut]), decisions.subset(order[cut:])
    fitted = OddsCalibration(levels, **settings).fit(train)
    predicted = fitted.predict(test) if len(test) else np.zeros(0)
    known = ~np.isnan(predicted)
    p, y = predicted[known], test.approved[known].astype(np.float64)
    rows = _by_bin(p, y, bins)
    gap = sum(r["n"] * abs(r["observed"] - r["predicted"]) for r in rows)
    return {"bins": rows, "train": len(train), "test": len(test), "predicted": int(known.sum()),
            "brier": float(np.mean((p - y) ** 2)) if len(p) else None,
            "ece": gap / len(p) if len(p) else None,
            "honest_share": sum(r["honest"] for r in rows) / len(rows) if rows else None,
            "products": _by_product(fitted, train, test, predicted, min_checked)}
