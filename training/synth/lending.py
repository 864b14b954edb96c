"""Loan applications: who applies where, what the lender could see, and whether it approved.

A lender decides on what the department data shows up to the month before the application
(the flags below) plus its own soft information; decline reasons are the flags that hurt most.
"""
from dataclasses import dataclass

import numpy as np

from . import district as d
from .health import smooth
from .tables import Table, cells

_APPLY_RATE = np.array((0.035, 0.02, 0.03, 0.02))
_AMOUNT_10K = {(0, 0): 30, (0, 1): 200, (0, 2): 800, (1, 0): 8, (1, 1): 30, (2, 0): 30, (2, 1): 100, (3, -1): 5}
# Weight of each visible flag in a lender's decision; keys are app.services.applications.DECLINE_REASONS.
REASON_WEIGHTS = {
    "tax_arrears": 1.2, "social_insurance_arrears": 0.8, "court_enforcement": 1.5, "serious_penalty": 1.0,
    "revenue_insufficient": 0.7, "operating_history_short": 0.5, "information_missing": 0.5,
    "debt_too_high": 0.6, "amount_exceeds_capacity": 0.8,
}
_REASONS = tuple(REASON_WEIGHTS)
_WEIGHTS = np.array(list(REASON_WEIGHTS.values()))


@dataclass
class Applications:
    """One entry per application of the chunk."""

    firm: np.ndarray
    month: np.ndarray
    applied_on: np.ndarray
    institution: np.ndarray
    amount: np.ndarray  # 元
    term: np.ndarray  # months
    flags: np.ndarray  # [application, reason] bool, columns follow REASON_WEIGHTS
    signals: dict  # further facts the risk process uses
    approved: np.ndarray = None
    reasons: np.ndarray = None


def _window_count(matrix_cum, f, t, width):
    """Events in months [t - width, t - 1] from a [firm, month] cumulative count."""
    upto = matrix_cum[f, t - 1]
    before = np.where(t - 1 - width >= 0, matrix_cum[f, np.maximum(t - 1 - width, 0)], 0)
    return upto - before


def _cumulative(shape, f, t, weights=None):
    counts = np.zeros(shape)
    np.add.at(counts, (f, t), 1 if weights is None else weights)
    return counts.cumsum(axis=1)


def _ratio(matrix, f, now, then):
    """matrix[f, now] / matrix[f, then], NaN where either is unknown."""
    ok = then >= 0
    old = np.where(ok, matrix[f, np.maximum(then, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return matrix[f, now] / old


def _flags(firms, observed, grades, events, f, t, amount, capacity):
    shape = observed["tax_revenue"].shape
    prev = t - 1
    rev = np.nan_to_num(observed["tax_revenue"])
    rev_cum = rev.cumsum(axis=1)
    recent = _window_count(rev_cum, f, t, 6)
    earlier = _window_count(rev_cum, f, t - 6, 6)
    enforced = _cumulative(shape, events.court_firm[events.enforced], events.court_t[events.enforced])
    serious = _cumulative(shape, events.penalty_firm[events.serious], events.penalty_t[events.serious])
    thin = np.isnan(observed["tax_revenue"][f, prev]) & np.isnan(observed["insured"][f, prev])
    columns = {
        "tax_arrears": (np.nan_to_num(observed["tax_arrears"][f, prev]) > 0) | (grades[f, t] >= 3),
        "social_insurance_arrears": np.nan_to_num(observed["si_arrears"][f, prev]) > 0,
        "court_enforcement": enforced[f, prev] > 0,
        "serious_penalty": _window_count(serious, f, t, 12) > 0,
        "revenue_insufficient": (t >= 13) & (recent < 0.7 * earlier),
        "operating_history_short": t - firms.est_t[f] < 24,
        "information_missing": thin,
        "debt_too_high": np.zeros(len(f), dtype=bool),
        "amount_exceeds_capacity": amount > 0.7 * capacity,
    }
    return np.stack([columns[k] for k in _REASONS], axis=1)


def _signals(act, observed, events, f, t):
    """Facts at the month before the application that drive the hidden risk (not all visible)."""
    shape = act.health.shape
    prev = t - 1
    dishonest = _cumulative(shape, events.court_firm[events.dishonest], events.court_t[events.dishonest])
    penalties = _cumulative(shape, events.penalty_firm, events.penalty_t)
    late = _cumulative(shape, *np.nonzero(np.nan_to_num(observed["util_days_late"]) > 30))
    headcount = _ratio(observed["insured"], f, prev, prev - 6)
    # Lenders' losses follow the firm's settled condition (what its records show over months),
    # not one month's swing: the smoothed health drives the risk.
    settled = smooth(act.health)
    return {
        "health": settled[f, prev], "change": settled[f, prev] - settled[f, np.maximum(prev - 6, 0)],
        "dishonest": dishonest[f, prev] > 0, "penalty": _window_count(penalties, f, t, 12) > 0,
        "utility_late": _window_count(late, f, t, 6) > 0, "headcount_drop": np.nan_to_num(headcount, nan=1) < 0.8,
    }


def draw_applications(rng, firms, act, observed, grades, events, timeline):
    """Who applied when and where, with the visible flags and the hidden signals at that time."""
    months = timeline.months
    rate = _APPLY_RATE[firms.kind][:, None] * np.exp(-0.2 * act.health)
    hit = act.started & (np.arange(months)[None, :] >= 3) & (rng.random(act.health.shape) < rate)
    f, t = cells(hit)
    n = len(f)
    median = np.array([_AMOUNT_10K.get((k, s), 30) for k, s in zip(firms.kind[f], firms.size[f], strict=True)])
    amount = np.maximum(1, np.round(median * rng.lognormal(0, 0.5, n))) * 1e4
    revenue = np.nan_to_num(observed["tax_revenue"])[f, t - 1] * 12
    capacity = np.where(revenue > 0, revenue, firms.revenue[f] * rng.lognormal(0, 0.3, n))
    flags = _flags(firms, observed, grades, events, f, t, amount, capacity)
    flags[:, _REASONS.index("debt_too_high")] = _window_count(_cumulative(hit.shape, f, t), f, t, 12) >= 2
    institution = (rng.random((n, 1)) > np.cumsum(d.INST_BY_KIND[firms.kind[f]], axis=1)).sum(axis=1)
    signals = _signals(act, observed, events, f, t)
    signals["leverage"] = amount / firms.revenue[f]
    institution = institution.clip(max=len(d.INSTITUTIONS) - 1)
    term = np.array([d.INSTITUTIONS[i].terms[j % len(d.INSTITUTIONS[i].terms)]
                     for i, j in zip(institution, rng.integers(0, 60, n), strict=True)], dtype=np.int64)
    return Applications(f, t, timeline.random_days(rng, t), institution, amount, term, flags, signals)


def decide(rng, apps):
    """Approve or decline each application; a decline names the one to three flags that weighed most."""
    n = len(apps.firm)
    soft = 0.6 * (apps.signals["health"] + rng.normal(0, 0.8, n))
    score = 0.9 - apps.flags @ _WEIGHTS + soft + d.INST_LENIENT[apps.institution] + rng.logistic(0, 0.5, n)
    apps.approved = score > 0
    weight = apps.flags * _WEIGHTS + rng.random(apps.flags.shape) * 0.1
    order = np.argsort(-weight, axis=1)
    count = np.minimum(apps.flags.sum(axis=1), rng.integers(1, 4, n))
    reasons = np.array([";".join(_REASONS[j] for j in row[:k]) or "collateral_insufficient"
                        for row, k in zip(order, count, strict=True)], dtype=object)
    apps.reasons = np.where(apps.approved, "", reasons).astype(object)


def application_table(apps, firms, timeline, numbers):
    """贷款申请_审批记录 rows: every application with its decision and decline reasons."""
    names = np.array([i.name for i in d.INSTITUTIONS])
    abbr = np.array([i.abbr for i in d.INSTITUTIONS])
    years = timeline.years[apps.month]
    return Table("application_history", {
        "application_no": np.array([f"SQ{a}{y}{k:07d}" for a, y, k in zip(abbr[apps.institution], years, numbers,
                                                                            strict=True)]),
        "institution": names[apps.institution], "subject_code": firms.code[apps.firm],
        "applied_on": apps.applied_on, "amount": apps.amount, "term_months": apps.term,
        "decision": np.where(apps.approved, "批准", "拒绝"), "decline_reasons": apps.reasons}, years)
