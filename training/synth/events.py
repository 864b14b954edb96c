"""Events drawn month by month from latent health: court cases, penalties, procurement awards."""
from dataclasses import dataclass

import numpy as np

from . import district as d
from .tables import Table, cells

_COURT_RATE = np.array((0.004, 0.0015, 0.002, 0.0005))
_PENALTY_RATE = np.array((0.002, 0.0012, 0.001, 0.0002))
_HEAVY = np.isin(d.IND_CODE, ("0610", "3011", "3021", "3031", "3074", "3075"))
_AUTHORITY_BY_INDUSTRY = {
    "0610": "safety", "3011": "environment", "3021": "environment", "3031": "environment", "3074": "environment",
    "3075": "environment", "3311": "safety", "4710": "city", "5431": "transport", "5920": "safety",
}
_AUTHORITY = np.array([_AUTHORITY_BY_INDUSTRY.get(code, "market") for code in d.IND_CODE])
_TENDERING = np.isin(d.IND_CODE, ("4710", "3021", "3311", "5212", "6210", "6110", "7291", "5431", "1523", "3074",
                                  "3075", "5920", "5223", "0141"))


@dataclass
class Events:
    """Event positions that lenders can see: firm, window month and kind."""

    court_firm: np.ndarray
    court_t: np.ndarray
    enforced: np.ndarray
    dishonest: np.ndarray
    penalty_firm: np.ndarray
    penalty_t: np.ndarray
    serious: np.ndarray


def serials(groups, order, offset):
    """1-based running numbers within each group, in `order`, shifted by `offset`."""
    index = np.lexsort((order, groups))
    sorted_groups = groups[index]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1] if len(groups) else []
    run = np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
    numbers = np.empty(len(groups), dtype=np.int64)
    numbers[index] = run + 1 + offset
    return numbers


def court_cases(rng, firms, act, timeline):
    """司法 cases: roles, causes, amounts and states; enforcement likelier for weak firms."""
    h = act.health
    hit = act.started & (rng.random(h.shape) < _COURT_RATE[firms.kind][:, None] * np.exp(-0.7 * h))
    f, t = cells(hit)
    weak = h[f, t] < -1
    u = rng.random(len(f))
    enforced = u < 0.08 + 0.35 * weak
    role = np.where(enforced, "被执行人", np.where(u < 0.6, "被告", np.where(u < 0.92, "原告", "第三人")))
    filed = timeline.random_days(rng, t)
    age = timeline.months - 1 - t
    status = np.where(age < rng.integers(2, 9, len(f)), "审理中", "已结案")
    status = np.where(enforced, np.where(age < 6, "执行中", np.where(u < 0.05, "已结案", "终结本次执行")), status)
    dishonest = enforced & (rng.random(len(f)) < np.where(h[f, t] < -1.2, 0.5, 0.1))
    amount = np.maximum(5000, firms.revenue[f] / 12 * rng.lognormal(-0.5, 1.0, len(f)))
    table = Table("court_case", {
        "case_no": np.zeros(len(f), dtype=np.int64), "subject_code": firms.code[f], "role": role,
        "cause": np.array(d.CAUSES)[rng.integers(0, len(d.CAUSES), len(f))], "amount": np.round(amount, -2),
        "filed_on": filed, "status": status, "dishonest": dishonest}, timeline.years[t])
    return table, (f, t, enforced, dishonest)


def number_cases(table, chunk):
    """Give every case of the chunk a docket number: （year）陕0203民初n号 or （year）陕0203执n号."""
    enforced = table.columns["role"] == "被执行人"
    numbers = serials(table.year * 2 + enforced, table.columns["filed_on"].astype(np.int64), chunk * 100_000)
    kind = np.where(enforced, "执", "民初")
    table.columns["case_no"] = np.array([f"（{y}）{d.COURT}{k}{n}号" for y, k, n in
                                         zip(table.year, kind, numbers, strict=True)])


def _publicity(rng, decided, severity, n):
    months = np.where(severity == "严重", rng.integers(12, 37, n),
                      np.where(severity == "一般", rng.integers(3, 13, n), rng.integers(1, 4, n)))
    until = decided.astype("datetime64[M]") + months
    until = until.astype("datetime64[D]") + (decided - decided.astype("datetime64[M]").astype("datetime64[D]"))
    hidden = (severity == "轻微") & (rng.random(n) < 0.7)  # minor penalties are mostly not published
    return np.where(hidden, np.datetime64("NaT"), until)


def penalties(rng, firms, act, timeline, chunk):
    """行政处罚 decisions with severity, fine, publicity period and repair."""
    h = act.health
    rate = _PENALTY_RATE[firms.kind] * np.where(_HEAVY[firms.industry], 2.5, 1.0)
    hit = act.started & (rng.random(h.shape) < rate[:, None] * np.exp(-0.5 * h))
    f, t = cells(hit)
    n = len(f)
    u = rng.random(n)
    severity = np.where(u < 0.06 + 0.1 * (h[f, t] < -1), "严重", np.where(u < 0.5, "一般", "轻微"))
    fine = np.where(severity == "严重", rng.uniform(5e4, 5e5, n),
                    np.where(severity == "一般", rng.uniform(5e3, 5e4, n), rng.uniform(0, 5e3, n)))
    fine = np.where((severity == "轻微") & (rng.random(n) < 0.3), 0, np.round(fine, -2))
    decided = timeline.random_days(rng, t)
    minimum = np.where(severity == "严重", 12, 3)
    matured = timeline.add_months(decided, minimum) <= timeline.end_date
    repaired = (severity != "轻微") & matured & (rng.random(n) < 0.3)
    authority = np.where(firms.coverage["tax"][f] & (rng.random(n) < 0.15), "tax", _AUTHORITY[firms.industry[f]])
    names = {key: value[0] for key, value in d.AUTHORITIES.items()}
    abbr = {key: value[1] for key, value in d.AUTHORITIES.items()}
    years = timeline.years[t]
    group = np.unique(authority, return_inverse=True)[1] * 10_000 + years
    numbers = serials(group, decided.astype(np.int64), chunk * 10_000)
    decision_no = np.array([f"{abbr[a]}〔{y}〕{k}号" for a, y, k in zip(authority, years, numbers, strict=True)])
    table = Table("penalty", {
        "decision_no": decision_no, "subject_code": firms.code[f],
        "authority": np.array([names[a] for a in authority]), "decided_on": decided, "severity": severity,
        "fine": fine, "publicity_until": _publicity(rng, decided, severity, n), "repaired": repaired}, years)
    return table, (f, t, severity == "严重")


def procurement(rng, firms, act, timeline, chunk):
    """政府采购 awards, mostly to healthy enterprises in trades the government buys from."""
    h = act.health
    rate = (0.004 * (firms.kind == d.ENTERPRISE) * (1 + firms.size.clip(0)) * _TENDERING[firms.industry]
            + 0.0005 * (firms.kind == d.COOPERATIVE))
    hit = act.started & (rng.random(h.shape) < rate[:, None] * np.exp(0.4 * h))
    f, t = cells(hit)
    n = len(f)
    awarded = timeline.random_days(rng, t)
    years = timeline.years[t]
    numbers = serials(years, awarded.astype(np.int64), chunk * 10_000)
    amount = 2e5 * (1 + 2 * firms.size[f].clip(0)) * rng.lognormal(0, 0.8, n)
    return Table("procurement", {
        "project_no": np.array([f"YTCG-{y}-{k:05d}" for y, k in zip(years, numbers, strict=True)]),
        "subject_code": firms.code[f], "buyer": np.array(d.BUYERS)[rng.integers(0, len(d.BUYERS), n)],
        "awarded_on": awarded, "amount": np.round(amount, -2)}, years)
