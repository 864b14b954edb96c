"""Loans and their outcomes, drawn from a hidden risk process.

Each loan's probability of default is a nonlinear function of the firm's latent state and the
visible facts at the month before application (no later information), plus interactions; the
outcome is a draw from it. An intercept calibrated on the first chunk sets the base rate.
"""
from dataclasses import dataclass

import numpy as np

from . import district as d
from .lending import REASON_WEIGHTS
from .tables import Table, sigmoid

_FLAG = {name: i for i, name in enumerate(REASON_WEIGHTS)}


@dataclass
class Loans:
    """One entry per disbursed loan of the chunk (before loans after a default are dropped)."""

    app: np.ndarray  # index into the applications
    firm: np.ndarray
    month: np.ndarray  # disbursement month
    disbursed_on: np.ndarray
    maturity_on: np.ndarray
    principal: np.ndarray  # 元
    term: np.ndarray
    rate: np.ndarray
    risk: np.ndarray  # the logit of default before the intercept
    draw: np.ndarray  # the uniform the outcome is drawn with
    default_month: np.ndarray  # when it defaults, if it does
    institution: np.ndarray


def risk_logit(apps, index):
    """The hidden log-odds of default (before the intercept) of the applications at `index`."""
    s = {k: v[index] for k, v in apps.signals.items()}
    flag = apps.flags[index]
    h = s["health"]
    thin = flag[:, _FLAG["information_missing"]]
    young = flag[:, _FLAG["operating_history_short"]]
    tax = flag[:, _FLAG["tax_arrears"]]
    return (np.log1p(np.exp(-1.5 * h)) - 0.25 * h + np.maximum(0, -s["change"])
            + 0.6 * tax + 0.9 * tax * s["headcount_drop"] + 0.5 * flag[:, _FLAG["social_insurance_arrears"]]
            + 0.8 * thin * young + 1.1 * flag[:, _FLAG["court_enforcement"]] + 0.6 * s["dishonest"]
            + 0.4 * s["penalty"] + 0.5 * flag[:, _FLAG["serious_penalty"]] + 0.5 * s["utility_late"]
            + 0.7 * np.log1p(np.maximum(0, s["leverage"] - 0.3)) + d.INST_RISK[apps.institution[index]]
            + 0.3 * (apps.term[index] >= 24))


def disburse(rng, apps, timeline):
    """Loans for the approved applications that were taken up and paid out by the window's end."""
    n = len(apps.firm)
    disbursed = apps.applied_on + rng.integers(3, 21, n)
    taken = apps.approved & (rng.random(n) > 0.04) & (disbursed <= timeline.end_date)
    index = np.flatnonzero(taken)
    k = len(index)
    month = timeline.month_index(disbursed[index])
    term = apps.term[index]
    lo, hi = np.array([d.INSTITUTIONS[i].rate for i in apps.institution[index]]).reshape(k, 2).T
    risk = risk_logit(apps, index) + rng.normal(0, 0.3, k)
    rate = np.round(lo + (hi - lo) * np.clip(sigmoid(risk - 1.5) + rng.normal(0, 0.1, k), 0, 1), 2)
    principal = np.maximum(1e4, np.round(apps.amount[index] * rng.uniform(0.7, 1.0, k), -3))
    default_month = month + 1 + np.floor(rng.beta(1.5, 2.5, k) * term).astype(int)
    return Loans(index, apps.firm[index], month, disbursed[index], timeline.add_months(disbursed[index], term),
                 principal, term, rate, risk, rng.random(k), default_month, apps.institution[index])


def _kept(loans, intercept):
    """Loans a lender would still make: none after the firm's first default."""
    defaulted = loans.draw < sigmoid(intercept + loans.risk)
    first = np.full(loans.firm.max() + 1 if len(loans.firm) else 0, np.iinfo(np.int64).max)
    np.minimum.at(first, loans.firm[defaulted], loans.default_month[defaulted])
    return loans.month <= first[loans.firm]


def calibrate(loans, target):
    """The intercept that makes the mean default probability of the kept loans equal `target`."""
    if not len(loans.firm):
        return float(np.log(target / (1 - target)))
    intercept = 0.0
    for _ in range(4):
        keep = _kept(loans, intercept)
        lo, hi = -30.0, 30.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if sigmoid(mid + loans.risk[keep]).mean() < target else (lo, mid)
        intercept = (lo + hi) / 2
    return intercept


def outcomes(rng, loans, intercept, timeline):
    """Drop loans after a default; the true PD, the default draw and the state at the window's end.

    Returns the kept loans, their PD, default flag, state and worst days past due, and the
    applications whose loans were dropped (a lender would have seen the default and declined).
    """
    keep = _kept(loans, intercept)
    dropped = loans.app[~keep]
    loans = Loans(*(getattr(loans, f)[keep] for f in Loans.__dataclass_fields__))
    pd = sigmoid(intercept + loans.risk)
    defaulted = loans.draw < pd
    end = timeline.months - 1
    since = end - loans.default_month
    k = len(pd)
    matured = loans.maturity_on <= timeline.end_date
    wobble = rng.random(k) < np.minimum(0.5, 3 * pd)
    state = np.where(matured, "正常结清", np.where(wobble & (rng.random(k) < 0.3), "逾期", "未到期"))
    days = np.where(wobble, rng.integers(1, 30, k), 0)
    state = np.where(defaulted & (since >= 0), np.where(since >= 3, "违约", "逾期"), state)
    state = np.where(defaulted & (since < 0), "未到期", state)
    days = np.where(defaulted & (since >= 0), 30 * since + rng.integers(1, 30, k), days)
    days = np.where(defaulted & (since < 0), 0, days)
    return loans, pd, defaulted, state, np.minimum(days, 3650), dropped


def lender_lawsuits(rng, firms, loans, defaulted, timeline):
    """Court cases that lenders file after a default, and the enforcement that may follow."""
    sue = defaulted & (loans.default_month + 4 <= timeline.months - 1)
    index = np.flatnonzero(sue)
    filed_t = loans.default_month[index] + rng.integers(1, 5, len(index))
    enforce = rng.random(len(index)) < 0.5
    enforce_t = filed_t + rng.integers(6, 10, len(index))
    enforce &= enforce_t <= timeline.months - 1
    t = np.concatenate([filed_t, enforce_t[enforce]])
    rows = np.concatenate([index, index[enforce]])
    enforced = np.r_[np.zeros(len(index), dtype=bool), np.ones(int(enforce.sum()), dtype=bool)]
    age = timeline.months - 1 - t
    status = np.where(enforced, np.where(age < 6, "执行中", "终结本次执行"), np.where(age < 4, "审理中", "已结案"))
    return Table("court_case", {
        "case_no": np.zeros(len(t), dtype=np.int64), "subject_code": firms.code[loans.firm[rows]],
        "role": np.where(enforced, "被执行人", "被告"), "cause": np.full(len(t), "金融借款合同纠纷"),
        "amount": np.round(loans.principal[rows] * rng.uniform(0.5, 1.0, len(t)), -2),
        "filed_on": timeline.random_days(rng, t), "status": status,
        "dishonest": enforced & (rng.random(len(t)) < 0.3)}, timeline.years[t])


def loan_tables(firms, loans, pd, defaulted, state, days, timeline, numbers):
    """The 贷后反馈 rows and the `_truth/loans.csv` rows."""
    inst = [d.INSTITUTIONS[i] for i in loans.institution]
    years = timeline.years[loans.month]
    loan_no = np.array([f"{i.abbr}-{y}-{k:07d}" for i, y, k in zip(inst, years, numbers, strict=True)])
    names = np.array([i.name for i in inst])
    codes = firms.code[loans.firm]
    feedback = Table("loan_feedback", {
        "loan_no": loan_no, "institution": names, "institution_kind": np.array([i.kind for i in inst]),
        "subject_code": codes, "disbursed_on": loans.disbursed_on, "maturity_on": loans.maturity_on,
        "principal": loans.principal, "annual_rate": loans.rate, "outcome": state, "max_days_past_due": days},
        years)
    default_month = np.where(defaulted, (timeline.first + loans.default_month).astype(str), "")
    truth = {"institution": names, "loan_no": loan_no, "subject_code": codes,
             "disbursed_on": loans.disbursed_on.astype(str), "true_pd": np.round(pd, 6),
             "defaulted": defaulted.astype(int), "defaults_in": default_month}
    return feedback, truth
