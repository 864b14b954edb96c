"""Approval odds: calibrated from past decisions by grade, and a reliability table that checks them.

Evidence for a product is its own decided platform applications plus the ingested past decisions
(`application_history`) of its institution. Odds are estimated per credit-grade level (the grades,
then "unscored") by histogram binning with shrinkage towards the platform-wide rate of that level:

    odds(product, level) = (approved + m × base(level)) / (decided + m)

where `m` is the prior strength and base(level) is the pooled approval rate of that level over
every decision, itself shrunk towards the overall rate. With fewer than `min_decisions` decisions
for the product, the pooled rate of the firm's level is used ("from the score"); with fewer than
that in the whole market, the odds are unknown.
"""
from dataclasses import dataclass

import numpy as np

HISTORY, SCORE, NONE = "history", "score", "none"


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


class OddsCalibration:
    """Per-product approval odds by grade level; fit on `Decisions`, then `table` for products."""

    def __init__(self, levels, min_decisions=30, prior_strength=10):
        self.levels = levels
        self.min_decisions = min_decisions
        self.prior_strength = prior_strength

    def fit(self, decisions):
        """Count approvals and decisions by level: pooled, per product, per institution's history."""
        levels, m = self.levels, self.prior_strength
        approved, decided = _counts(decisions.level, decisions.approved, levels)
        self.decided_ = int(decided.sum())
        overall = (approved.sum() + 1) / (decided.sum() + 2)
        self.base_ = (approved + m * overall) / (decided + m)
        self.by_product_ = self._grouped(decisions, decisions.product >= 0, decisions.product)
        self.by_institution_ = self._grouped(decisions, decisions.product < 0, decisions.institution)
        return self

    def _grouped(self, decisions, keep, keys):
        groups = {}
        for key in np.unique(keys[keep]):
            rows = keep & (keys == key)
            groups[int(key)] = _counts(decisions.level[rows], decisions.approved[rows], self.levels)
        return groups

    def table(self, product_ids, institution_ids):
        """(odds per product and level, basis per product, decisions behind each product)."""
        count = len(product_ids)
        odds = np.full((count, self.levels), np.nan)
        basis = np.full(count, NONE, dtype=object)
        evidence = np.zeros(count, dtype=np.int64)
        empty = (np.zeros(self.levels), np.zeros(self.levels))
        for j, (product, institution) in enumerate(zip(product_ids, institution_ids, strict=True)):
            own_a, own_n = self.by_product_.get(int(product), empty)
            inst_a, inst_n = self.by_institution_.get(int(institution), empty)
            approved, decided = own_a + inst_a, own_n + inst_n
            evidence[j] = int(decided.sum())
            if evidence[j] >= self.min_decisions:
                m = self.prior_strength
                odds[j] = (approved + m * self.base_) / (decided + m)
                basis[j] = HISTORY
            elif self.decided_ >= self.min_decisions:
                odds[j] = self.base_
                basis[j] = SCORE
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


def reliability(decisions, levels, holdout_share=0.25, bins=10, **settings):
    """Fit on the earlier decisions, predict the later ones, and compare by bins of predicted odds."""
    order = np.argsort(decisions.day, kind="stable")
    cut = int(round(len(order) * (1 - holdout_share)))
    train, test = decisions.subset(order[:cut]), decisions.subset(order[cut:])
    predicted = OddsCalibration(levels, **settings).fit(train).predict(test) if len(test) else np.zeros(0)
    known = ~np.isnan(predicted)
    p, y = predicted[known], test.approved[known].astype(np.float64)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if n == 0:
            continue
        observed = float(y[inside].mean())
        low, high = wilson(float(y[inside].sum()), n)
        mean = float(p[inside].mean())
        rows.append({"from": b / bins, "to": (b + 1) / bins, "n": n, "predicted": mean, "observed": observed,
                     "low": low, "high": high, "honest": low <= mean <= high})
    gap = sum(r["n"] * abs(r["observed"] - r["predicted"]) for r in rows)
    return {"bins": rows, "train": len(train), "test": len(test), "predicted": int(known.sum()),
            "brier": float(np.mean((p - y) ** 2)) if len(p) else None,
            "ece": gap / len(p) if len(p) else None,
            "honest_share": sum(r["honest"] for r in rows) / len(rows) if rows else None}
