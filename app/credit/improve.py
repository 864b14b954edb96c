""""What would improve my grade": the smallest realistic changes a firm can make, found by re-scoring.

Only actionable features (features.Feature.actionable: arrears, late filings and payments) are ever
changed, and only toward their better side (the model is monotone in each of them). Each feature is
tried one step at a time (one late payment fewer, arrears cleared, a higher share of social
insurance paid); then the features that help most are tried together in twos and threes. What
reaches the next better grade with the fewest changes comes first; otherwise the largest gain.

The months of a recent window lie inside the three-year one, so a change to a recent count changes
the three-year figure with it (one late bill fewer this year is one fewer in three years); a
three-year figure alone can fall only to what the recent months hold (the older late bills leave
the window as the firm keeps paying on time).
"""
import math
from dataclasses import dataclass
from itertools import combinations

from .features import BY_NAME, FEATURES
from .reasons import RATE_MONTHS

ACTIONABLE = tuple(f.name for f in FEATURES if f.actionable)
# How each actionable feature moves: counts one at a time, amounts cleared, days late and paid
# shares in the steps a firm can plan for.
DAYS_STEPS = (30.0, 15.0, 0.0)
RATIO_STEPS = (0.9, 0.95, 1.0)
CLEARED = ("tax_arrears_wan",)
DAYS = ("util_days_late_max_12m",)
MAX_COMBINED = 5
# A recent count → the three-year figure that holds it. Rates over months (features.CONTEXT_NAMES
# says how many) move by the count over the months; counts of months move by the count.
HISTORY = {"util_late_12m": "util_late_per_month_36m", "util_late30_6m": "util_late30_months_36m",
           "tax_late_filings_12m": "tax_late_share_36m", "tax_arrears_months_12m": "tax_arrears_months_36m"}
RECENT = {history: recent for recent, history in HISTORY.items()}
# Features that only the history moves (never stepped on their own).
LATEST_MONTH = {"si_arrears_months_12m": "si_arrears_latest"}


@dataclass(frozen=True)
class Change:
    """One feature moved from its value to a better one; `months`: for a rate over months, how many;
    `implied`: it follows from another change of the suggestion (not said on its own)."""

    feature: str
    before: float
    after: float
    months: float | None = None
    implied: bool = False


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


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def steps(feature, value):
    """Better values of an actionable feature, nearest first (empty when it cannot get better)."""
    if _missing(value):
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


def _months(row, feature):
    """The months a rate feature is taken over (None for other features or when unknown)."""
    months = row.get(RATE_MONTHS.get(feature))
    return None if _missing(months) or months <= 0 else float(months)


def _history_change(row, recent, after):
    """The three-year figure that a recent count moved to `after` implies, or None."""
    history = HISTORY.get(recent) or LATEST_MONTH.get(recent)
    before = row.get(history)
    if history is None or _missing(before):
        return None
    if recent in LATEST_MONTH:  # no month in arrears in the last 12: none last month either
        return Change(history, before, 0.0, implied=True) if after == 0 and before > 0 else None
    fewer = row[recent] - after
    months = _months(row, history)
    if history in RATE_MONTHS:
        if months is None:
            return None
        fewer = fewer / months
    value = max(before - fewer, 0.0)
    return Change(history, before, value, months, implied=True) if value < before else None


def _history_steps(row, feature):
    """A three-year figure one late month or bill fewer at a time, down to what the recent months hold."""
    value, recent = row.get(feature), row.get(RECENT.get(feature))
    floor = 0.0 if _missing(recent) else float(recent)
    if feature in RATE_MONTHS:
        months = _months(row, feature)
        if months is None or _missing(value):
            return []
        counts = [c for c in range(round(value * months) - 1, -1, -1) if c >= floor]
        return [Change(feature, value, count / months, months) for count in counts]
    return [Change(feature, value, after) for after in steps(feature, value) if after >= floor]


def moves(row):
    """Every single move of the row's actionable features, each with the changes it implies."""
    found = []
    for feature in ACTIONABLE:
        if feature in RECENT:
            found.extend((change,) for change in _history_steps(row, feature))
        elif feature not in LATEST_MONTH.values():
            for value in steps(feature, row[feature]):
                implied = _history_change(row, feature, value)
                found.append((Change(feature, row[feature], value, _months(row, feature)),
                              *((implied,) if implied else ())))
    return found


def _reaches(grade, target, names):
    """Whether `grade` is the target grade or better (grades are listed best first)."""
    return target is not None and names.index(grade) <= names.index(target)


def suggest(scorer, row):
    """Re-score the firm's feature row with its actionable features changed; see the module doc."""
    names = list(scorer.bundle.scale.grade_names)
    _, points, grades = scorer.score_rows([row])
    base_score, base_grade = int(points[0]), str(grades[0])
    target = names[names.index(base_grade) - 1] if names.index(base_grade) > 0 else None
    singles = _evaluate(scorer, row, moves(row), base_score, target, names)
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
    helpful = {s.changes[0].feature for s in sorted(singles, key=lambda s: -s.gain)[:MAX_COMBINED]}
    best = {}
    for move in moves(row):  # each feature's last (best) move
        if move[0].feature in helpful:
            best[move[0].feature] = move
    tried = [_merge(group) for size in (2, 3) for group in combinations(best.values(), size)]
    return sorted((s for s in _evaluate(scorer, row, tried, base_score, target, names) if s.gain > 0), key=_rank)


def _merge(group):
    """The changes of several moves; a feature two of them move takes the safer value (said once)."""
    merged = {}
    for change in (c for move in group for c in move):
        kept = merged.get(change.feature)
        if kept is None or (change.after - kept.after) * BY_NAME[change.feature].monotone < 0:
            merged[change.feature] = change if kept is None or kept.implied else Change(
                change.feature, change.before, change.after, change.months, implied=False)
    return tuple(merged.values())


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
