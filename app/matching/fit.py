"""The fit that orders eligible (need, product) pairs; the formula is in docs/matching.md.

    fit = 0.40 × odds + 0.30 × cost + 0.20 × coverage + 0.10 × speed     (each part in [0, 1])

- odds: the calibrated approval odds for the firm's grade level (0.5 when unknown);
- cost: 1 − APR / reference APR, clipped to [0, 1], where APR is the annualised total cost of the
  need's term at the rate a firm of this grade can expect (linear in the grade across the product's
  rate range, best grade at the floor; unscored firms at the middle), fees included;
- coverage: the share of the need the product's maximum amount covers, at most 1;
- speed: 1 − recent median response days / (2 × the institution's response limit), clipped.
"""
from dataclasses import dataclass

import numpy as np

from .apr import annualised_rate

DEFAULT_WEIGHTS = {"odds": 0.40, "cost": 0.30, "coverage": 0.20, "speed": 0.10}
DEFAULT_APR_REFERENCE = 24.0
UNKNOWN_ODDS = 0.5


@dataclass
class Market:
    """Per-product figures that do not depend on the need: odds by level and response times."""

    odds: np.ndarray
    basis: np.ndarray
    evidence: np.ndarray
    response_days: np.ndarray
    response_limit: np.ndarray

    @classmethod
    def unknown(cls, products):
        """A market with no decisions and no response history (every part at its neutral value)."""
        count, levels = len(products), len(products.grades) + 1
        return cls(np.full((count, levels), np.nan), np.full(count, "none", dtype=object),
                   np.zeros(count, dtype=np.int64), np.full(count, np.nan), np.full(count, 3.0))


def expected_rate(products, cols, levels):
    """The nominal rate (%) a firm of grade level `levels` can expect from products `cols`."""
    grades = len(products.grades)
    low, high = products.rate_min[cols] / 1000, products.rate_max[cols] / 1000
    position = np.where(levels >= grades, 0.5, levels / max(grades - 1, 1))
    return low + (high - low) * position


class AprGrid:
    """APR of every product for the terms and grade levels that occur, computed once for many pairs."""

    def __init__(self, products, terms, levels):
        self.term_pos = np.full(int(max(terms.max(initial=0), 1)) + 1, -1, dtype=np.int64)
        unique_terms, unique_levels = np.unique(terms), np.unique(levels)
        self.term_pos[unique_terms] = np.arange(len(unique_terms))
        self.level_pos = np.full(len(products.grades) + 1, -1, dtype=np.int64)
        self.level_pos[unique_levels] = np.arange(len(unique_levels))
        cols, t, g = (a.ravel() for a in np.meshgrid(np.arange(len(products)), unique_terms, unique_levels,
                                                     indexing="ij"))
        self.shape = (len(products), len(unique_terms), len(unique_levels))
        self.values = _apr(products, cols, t, g).reshape(self.shape)

    def lookup(self, cols, terms, levels):
        """The APR of each pair."""
        return self.values[cols, self.term_pos[terms], self.level_pos[levels]]


def _apr(products, cols, terms, levels):
    return annualised_rate(expected_rate(products, cols, levels), terms, products.repayment[cols],
                           products.upfront_fee[cols], products.guarantee_fee[cols])


def coverage(needs, products, rows, cols):
    """The share of each need that the product's maximum amount covers, at most 1."""
    return np.minimum(1.0, products.amount_max[cols] / needs.amount[rows])


def response_days(market, cols):
    """Each product's recent median response days, or its institution's limit when it has no history."""
    return np.where(np.isnan(market.response_days[cols]), market.response_limit[cols], market.response_days[cols])


def rank(needs, products, market, rows, cols, grid=None, weights=None, apr_reference=DEFAULT_APR_REFERENCE):
    """The fit and its parts for pairs (rows[k], cols[k]); `grid` speeds up many pairs."""
    weights = weights or DEFAULT_WEIGHTS
    levels = needs.grade[rows].astype(np.int64)
    terms = needs.term[rows].astype(np.int64)
    apr = grid.lookup(cols, terms, levels) if grid is not None else _apr(products, cols, terms, levels)
    odds = market.odds[cols, levels]
    covered = coverage(needs, products, rows, cols)
    days = response_days(market, cols)
    parts = {
        "odds": np.where(np.isnan(odds), UNKNOWN_ODDS, odds),
        "cost": np.clip(1 - apr / apr_reference, 0, 1),
        "coverage": covered,
        "speed": np.clip(1 - days / (2 * market.response_limit[cols]), 0, 1),
    }
    fit = sum(weights[name] * parts[name] for name in DEFAULT_WEIGHTS)
    return {"fit": fit, "odds": odds, "apr": apr, "coverage": covered, "response_days": days,
            "priority": needs.red[rows] & products.red_priority[cols]}
