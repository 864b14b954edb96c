"""The score scale and grades: points-to-double-odds, documented in the model card.

points = offset + factor · ln(good:bad odds), factor = PDO / ln 2. Ours: 600 points at odds of
50:1, 20 points to double the odds (a common bank choice, DOMAIN.md). Grades are PD bands.
"""
import bisect
import math
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Scale:
    """A score scale and its grade bands (upper PD bound of each grade, best first)."""

    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    grade_names: tuple = ("A", "B", "C", "D", "E")
    grade_upper_pd: tuple = (0.01, 0.025, 0.05, 0.10, 1.0)

    # worked out once per scale (a frozen dataclass: cached_property writes past it): one row's score asks for both
    @cached_property
    def factor(self):
        return self.pdo / math.log(2)

    @cached_property
    def offset(self):
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, pd):
        """Score points for probabilities of default (array-like), rounded to integers."""
        pd = np.clip(np.asarray(pd, dtype=float), 1e-6, 1 - 1e-6)
        return np.rint(self.offset + self.factor * np.log((1 - pd) / pd)).astype(int)

    def grades(self, pd):
        """Grade letters for probabilities of default (array-like)."""
        index = np.searchsorted(np.asarray(self.grade_upper_pd), np.asarray(pd, dtype=float), side="right")
        return np.asarray(self.grade_names)[np.minimum(index, len(self.grade_names) - 1)]

    def point(self, pd):
        """points() of one probability: the same arithmetic on one number (no arrays to make). The same
        numpy log; Python's round() of a float is np.rint's round half to even."""
        pd = min(max(float(pd), 1e-6), 1 - 1e-6)
        return round(self.offset + self.factor * float(np.log((1 - pd) / pd)))

    def grade(self, pd):
        """grades() of one probability."""
        index = bisect.bisect_right(self.grade_upper_pd, float(pd))
        return self.grade_names[min(index, len(self.grade_names) - 1)]

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
