"""Monthly department records drawn from latent health: tax, social insurance, housing fund.

Each function returns the export rows and the [firm, month] matrices that lending decisions
later look at (NaN where the department has no record).
"""
from dataclasses import dataclass

import numpy as np

from . import district as d
from .health import season, smooth
from .tables import Table, cells, sigmoid


@dataclass
class Activity:
    """What the firms actually did each month (the department records are views of it)."""

    health: np.ndarray
    revenue: np.ndarray  # 元 per month
    physical: np.ndarray  # multiplier of power, water, gas and freight
    alive: np.ndarray
    started: np.ndarray  # alive and past the month of establishment (the first filing month)


def activity(rng, firms, health, timeline):
    """Revenue and physical activity of every firm-month."""
    months = timeline.months
    factor = season(firms.industry, timeline.month_of_year)
    revenue = firms.revenue[:, None] / 12 * factor * np.exp(0.6 * health) * rng.lognormal(0, 0.12, health.shape)
    physical = factor ** 0.6 * np.exp(0.5 * smooth(health))
    alive = firms.alive(months)
    started = alive & (np.arange(months)[None, :] > firms.est_t[:, None])
    return Activity(health, revenue, physical, alive, started)


def _accumulate(health, new_debt, clears):
    """Arrears over time: new debt when health is poor, paid off when it recovers."""
    arrears = np.zeros_like(health)
    for m in range(health.shape[1]):
        previous = arrears[:, m - 1] if m else 0
        keep = np.where(clears[:, m], 0.0, 0.88)
        arrears[:, m] = previous * keep + new_debt[:, m]
    return np.round(arrears, 2)


def tax_filings(rng, firms, act, timeline):
    """税务 monthly filings and the matrices of revenue, arrears and late filing."""
    h = act.health
    mask = act.started & firms.coverage["tax"][:, None]
    revenue = np.where(rng.random(h.shape) < 0.04 * (firms.kind == d.INDIVIDUAL)[:, None], 0, act.revenue)
    general = (firms.kind == d.ENTERPRISE) & (firms.size > 0)
    rate = np.where(general, rng.uniform(0.03, 0.06, len(firms)), 0.01)
    vat = revenue * rate[:, None]
    vat = np.where(~general[:, None] & (revenue <= 100_000), 0, vat)  # small-scale exemption
    vat = np.where((firms.kind == d.COOPERATIVE)[:, None], 0, vat)  # own farm produce is exempt
    quarter_end = (timeline.month_of_year % 3 == 2)[None, :]
    margin = np.clip(0.05 + 0.04 * h, 0, None)
    income = np.where(quarter_end & (firms.kind == d.ENTERPRISE)[:, None], 3 * revenue * margin * 0.05, 0)
    late = rng.random(h.shape) < sigmoid(-3.2 - 1.2 * h)
    new_debt = (h < -1.0) & (rng.random(h.shape) < sigmoid(-2.5 - 1.5 * h))
    new_debt = new_debt * (vat + income + 0.02 * revenue) * rng.uniform(1, 3, h.shape)
    arrears = _accumulate(h, new_debt, (h > -0.3) & (rng.random(h.shape) < 0.4))
    f, t = cells(mask)
    table = Table("tax_filing", {
        "subject_code": firms.code[f], "period": t, "revenue": np.round(revenue[f, t], 2),
        "vat": np.round(vat[f, t], 2), "income_tax": np.round(income[f, t], 2), "on_time": ~late[f, t],
        "arrears": arrears[f, t]}, timeline.years[t])
    observed = {"tax_revenue": np.where(mask, revenue, np.nan), "tax_arrears": np.where(mask, arrears, np.nan),
                "tax_late": mask & late}
    return table, observed


def social_insurance(rng, firms, act, timeline):
    """社保 monthly contributions and 公积金 deposits, with headcount and arrears matrices."""
    h = act.health
    mask = act.started & firms.coverage["si"][:, None]
    insured = np.maximum(1, np.round(firms.employees[:, None] * np.exp(0.25 * smooth(h))
                                     * rng.lognormal(0, 0.04, h.shape)))
    due = insured * rng.uniform(1050, 1500, len(firms))[:, None]
    short = (h < -0.7) & (rng.random(h.shape) < sigmoid(-1.8 - 1.5 * h))
    paid = np.where(short, due * rng.uniform(0, 0.8, h.shape), due)
    clears = (h > 0) & (rng.random(h.shape) < 0.3)
    arrears = _accumulate(h, due - paid, clears)
    owed_before = np.concatenate([np.zeros((len(firms), 1)), arrears[:, :-1]], axis=1)
    paid = np.where(clears, paid + owed_before * 0.92, paid)
    f, t = cells(mask)
    si = Table("social_insurance", {
        "subject_code": firms.code[f], "period": t, "insured": insured[f, t].astype(np.int64),
        "due": np.round(due[f, t], 2), "paid": np.round(paid[f, t], 2), "arrears": arrears[f, t]},
        timeline.years[t])
    hf = _housing_fund(rng, firms, mask, insured, h, timeline)
    observed = {"insured": np.where(mask, insured, np.nan), "si_arrears": np.where(mask, arrears, np.nan)}
    return si, hf, observed


def _housing_fund(rng, firms, si_mask, insured, h, timeline):
    mask = si_mask & firms.coverage["hf"][:, None]
    members = np.maximum(1, np.round(insured * rng.uniform(0.4, 1.0, len(firms))[:, None]))
    paid = members * rng.uniform(300, 700, len(firms))[:, None]
    paid = np.where((h < -1.0) & (rng.random(h.shape) < 0.3), 0, paid)
    f, t = cells(mask)
    return Table("housing_fund", {
        "subject_code": firms.code[f], "period": t, "members": members[f, t].astype(np.int64),
        "paid": np.round(paid[f, t], 2)}, timeline.years[t])


def operations(rng, firms, act, insured, timeline):
    """企业经营 data that firms report on the platform (verified where tax data backs it)."""
    n, months = act.health.shape
    start = np.maximum(firms.est_t, rng.integers(0, max(months - 12, 1), n))
    mask = act.alive & firms.coverage["ops"][:, None] & (np.arange(months)[None, :] >= start[:, None])
    verified = firms.coverage["tax"] & (rng.random(n) < 0.7)
    bias = np.where(verified[:, None], rng.normal(1, 0.02, act.health.shape),
                    rng.uniform(1.0, 1.3, act.health.shape))
    staff = np.where(np.isnan(insured), np.maximum(1, np.round(firms.employees[:, None]
                                                                * np.exp(0.2 * act.health))), insured)
    f, t = cells(mask)
    return Table("operations", {
        "subject_code": firms.code[f], "period": t, "revenue": np.round(act.revenue[f, t] * bias[f, t], -2),
        "employees": staff[f, t].astype(np.int64),
        "provenance": np.where(verified[f], "平台核验", "自报")}, timeline.years[t])
