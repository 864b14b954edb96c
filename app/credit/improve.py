""""What would improve my grade": the smallest realistic changes a firm can make, found by re-scoring.

Only actionable features (features.Feature.actionable: arrears, late filings and payments) are ever
changed, and only toward their better side (the model is monotone in each of them). Each feature is
tried one step at a time (one late payment fewer, arrears cleared, a higher share of social
insurance paid); then the features that help most are tried together in twos and threes. What
reaches the next better grade with the fewest changes comes first; otherwise the largest gain.
"""
import math
from dataclasses import dataclass
from itertools import combinations

from .features import BY_NAME, FEATURES

ACTIONABLE = tuple(f.name for f in FEATURES if f.actionable)
# How each actionable feature moves: counts one at a time, amounts cleared, days late and paid
# shares in the steps a firm can plan for.
DAYS_STEPS = (30.0, 15.0, 0.0)
RATIO_STEPS = (0.9, 0.95, 1.0)
CLEARED = ("tax_arrears_wan",)
DAYS = ("util_days_late_max_12m",)
MAX_COMBINED = 5


@dataclass(frozen=True)
class Change:
    """One feature moved from its value to a better one."""

    feature: str
    before: float
    after: float


@dataclass(frozen=True)
class Suggestion:
    """Changes and the score, grade and PD they would give with the active model."""

    changes: tuple
    score: int
    grade: str
    pd: float
    gain: int
    reaches_target: bool

    def apply(self, row):
        """The feature row with the changes made."""
        return {**row, **{change.feature: change.after for change in self.changes}}


@dataclass(frozen=True)
class Improvement:
    """The firm's present standing, the grade to reach, and the suggestions, best first."""

    score: int
    grade: str
    target_grade: str | None
    suggestions: tuple


def steps(feature, value):
    """Better values of an actionable feature, nearest first (empty when it cannot get better)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if BY_NAME[feature].monotone < 0:  # a share paid: higher is safer
        return [step for step in RATIO_STEPS if step > value]
    if value <= 0:
        return []
    if feature in CLEARED:
        return [0.0]
    if feature in DAYS:
        return [step for step in DAYS_STEPS if step < value]
    return [float(count) for count in range(math.ceil(value) - 1, -1, -1)]


def _reaches(grade, target, names):
    """Whether `grade` is the target grade or better (grades are listed best first)."""
    return target is not None and names.index(grade) <= names.index(target)


def suggest(scorer, row):
    """Re-score the firm's feature row with its actionable features changed; see the module doc."""
    names = list(scorer.bundle.scale.grade_names)
    _, points, grades = scorer.score_rows([row])
    base_score, base_grade = int(points[0]), str(grades[0])
    target = names[names.index(base_grade) - 1] if names.index(base_grade) > 0 else None
    tried = [(Change(f, row[f], value),) for f in ACTIONABLE for value in steps(f, row[f])]
    singles = _evaluate(scorer, row, tried, base_score, target, names)
    best_single = {}
    for suggestion in singles:  # per feature: the nearest step that reaches the target, else the best
        feature = suggestion.changes[0].feature
        kept = best_single.get(feature)
        if kept is None or (not kept.reaches_target and (suggestion.reaches_target or suggestion.gain > kept.gain)):
            best_single[feature] = suggestion
    chosen = sorted((s for s in best_single.values() if s.gain > 0), key=_rank)
    if not any(s.reaches_target for s in chosen):
        chosen += _combined(scorer, row, chosen, base_score, target, names)[:1]
    return Improvement(base_score, base_grade, target, tuple(sorted(chosen, key=_rank)))


def _combined(scorer, row, singles, base_score, target, names):
    """The helpful features at their best values, two and three at a time, best first."""
    helpful = sorted(singles, key=lambda s: -s.gain)[:MAX_COMBINED]
    best = [Change(s.changes[0].feature, s.changes[0].before, steps(s.changes[0].feature, s.changes[0].before)[-1])
            for s in helpful]
    tried = [group for size in (2, 3) for group in combinations(best, size)]
    return sorted((s for s in _evaluate(scorer, row, tried, base_score, target, names) if s.gain > 0), key=_rank)


def _evaluate(scorer, row, groups, base_score, target, names):
    if not groups:
        return []
    changed = [{**row, **{c.feature: c.after for c in group}} for group in groups]
    pd_values, points, grades = scorer.score_rows(changed)
    return [Suggestion(tuple(group), int(points[i]), str(grades[i]), float(pd_values[i]),
                       int(points[i]) - base_score, _reaches(str(grades[i]), target, names))
            for i, group in enumerate(groups)]


def _rank(suggestion):
    """Reaching the target first, with the fewest changes; then the largest gain."""
    return (not suggestion.reaches_target, len(suggestion.changes) if suggestion.reaches_target else 0,
            -suggestion.gain)
