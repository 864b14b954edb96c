"""The subjects of one chunk: who they are, where, how big, how old, which sources know them."""
from dataclasses import dataclass

import numpy as np

from . import district as d
from . import identity
from .tables import Table
from .timeline import TEXT

# Share of each kind of subject that each department's export covers (enterprise, individual,
# cooperative, farmer): many 个体工商户 pay tax on a fixed quota and farmers are in almost none.
_COVERAGE = {
    "tax": (0.95, 0.45, 0.70, 0.02),
    "si": (0.72, 0.15, 0.40, 0.0),
    "hf": (0.45, 0.15, 0.20, 0.0),  # share of the socially insured
    "util": (0.92, 0.85, 0.80, 0.75),
    "ops": (0.25, 0.08, 0.20, 0.02),
}
_REVENUE = {(0, 0): 8e5, (0, 1): 8e6, (0, 2): 6e7, (1, 0): 2.5e5, (1, 1): 1.5e6, (2, 0): 1e6, (2, 1): 5e6,
            (3, -1): 1e5}
_EMPLOYEES = {(0, 0): 5, (0, 1): 30, (0, 2): 150, (1, 0): 2, (1, 1): 8, (2, 0): 6, (2, 1): 18, (3, -1): 1.5}
_CAPITAL = {(0, 0): 50, (0, 1): 300, (0, 2): 2000, (1, 0): 5, (1, 1): 30, (2, 0): 30, (2, 1): 200}


@dataclass
class Firms:
    """Arrays describing the n subjects of a chunk (one entry per subject)."""

    gidx: np.ndarray
    kind: np.ndarray
    town: np.ndarray
    industry: np.ndarray
    size: np.ndarray  # 0 micro, 1 small, 2 medium, -1 none (farmers)
    established: np.ndarray  # datetime64[D]
    est_t: np.ndarray  # window month of establishment (negative: before the window)
    revenue: np.ndarray  # typical annual revenue, 元
    employees: np.ndarray
    capital: np.ndarray  # 万元, NaN for farmers
    coverage: dict
    mu: np.ndarray  # the firm's mean health (the latent risk is its negative)
    trend: np.ndarray  # health change per year
    onset: np.ndarray = None  # distress onset month, -1 for none
    last_t: np.ndarray = None  # last active month (M-1 while 存续)
    status: np.ndarray = None  # 0 存续, 1 注销, 2 吊销
    code: np.ndarray = None
    name: np.ndarray = None
    rep_name: np.ndarray = None
    rep_id: np.ndarray = None

    def __len__(self):
        return len(self.gidx)

    def alive(self, months):
        """[firm, month] mask of the months each subject was in business."""
        t = np.arange(months)
        return (t >= self.est_t[:, None]) & (t <= self.last_t[:, None])


def _draw_by_row(rng, probs):
    """One category per row of a [n, k] probability matrix."""
    return (rng.random((len(probs), 1)) > np.cumsum(probs, axis=1)).sum(axis=1).clip(max=probs.shape[1] - 1)


def _sizes(rng, kind):
    size = np.full(len(kind), -1)
    mix = {d.ENTERPRISE: (0.62, 0.30, 0.08), d.INDIVIDUAL: (0.97, 0.03, 0), d.COOPERATIVE: (0.8, 0.2, 0)}
    for k, p in mix.items():
        sel = kind == k
        size[sel] = rng.choice(3, size=int(sel.sum()), p=p)
    return size


def _table(kind, size, table, default):
    out = np.full(len(kind), default, dtype=float)
    for (k, s), value in table.items():
        out[(kind == k) & (size == s)] = value
    return out


def _ages(rng, kind):
    """Years since establishment: about one subject in eight is under a year old."""
    age = 1 + rng.gamma(1.6, 4.5, len(kind))
    age = np.where(rng.random(len(kind)) < 0.12, rng.random(len(kind)), age)
    return np.minimum(age, np.where(kind == d.COOPERATIVE, 18.0, 35.0))


def _coverage(rng, kind, est_t, months):
    cov = {name: rng.random(len(kind)) < np.array(shares)[kind] for name, shares in _COVERAGE.items()}
    young = est_t > months - 13
    cov["tax"] &= ~young | (rng.random(len(kind)) < 0.5)  # many new firms have not filed yet
    cov["si"] &= ~young | (rng.random(len(kind)) < 0.4)
    cov["hf"] &= cov["si"]
    return cov


def draw_firms(rng, region, timeline, gidx):
    """Draw the subjects with global indices `gidx` (kind, place, industry, size, age, health)."""
    n = len(gidx)
    kind = rng.choice(4, size=n, p=d.KIND_SHARES)
    town = _draw_by_row(rng, region.kind_town_weights[kind])
    industry = _draw_by_row(rng, region.industry_weights[town, kind])
    size = _sizes(rng, kind)
    age = _ages(rng, kind)
    established = timeline.end_date - np.round(age * 365.25).astype(int)
    est_t = timeline.month_index(established)
    revenue = _table(kind, size, _REVENUE, 3e5) * d.IND_REVENUE[industry] * rng.lognormal(0, 0.2, n)
    employees = np.maximum(1, np.round(_table(kind, size, _EMPLOYEES, 2) * rng.lognormal(0, 0.5, n)))
    capital = _table(kind, size, _CAPITAL, np.nan) * rng.lognormal(0, 0.6, n)
    capital = np.where(np.isnan(capital), capital, np.maximum(1, np.round(capital)))
    mu = (0.25 * size.clip(0) - 0.4 * (age < 2) + 0.15 * (age > 8) + region.town_health[town]
          - 0.3 * d.IND_SHOCK[industry] - 0.15 * (kind == d.INDIVIDUAL) + rng.normal(0, 0.6, n))
    trend = rng.normal(0.05, 0.15, n)
    # Healthier firms sell more than their size class suggests: health shows in revenue against peers.
    revenue = revenue * np.exp(0.5 * mu)
    return Firms(np.asarray(gidx), kind, town, industry, size, established, est_t, revenue, employees, capital,
                 _coverage(rng, kind, est_t, timeline.months), mu, trend)


def add_fates(rng, firms, months):
    """Distress episodes (likelier for weak firms) and the closures that some of them end in."""
    n = len(firms)
    first = np.maximum(firms.est_t, 0)
    distressed = rng.random(n) < 1 / (1 + np.exp(2.6 + 0.9 * firms.mu))
    onset = first + np.floor(rng.random(n) * np.maximum(months - first, 1)).astype(int)
    firms.onset = np.where(distressed & (onset < months), onset, -1)
    closing = (firms.onset >= 0) & (rng.random(n) < 0.45)
    close_t = firms.onset + rng.integers(6, 16, n)
    random_close = rng.random(n) < 0.015
    close_t = np.where(random_close & ~closing, first + rng.integers(3, max(months, 4), n), close_t)
    closing |= random_close
    closing &= (close_t < months - 1) & (firms.kind != d.FARMER)
    firms.last_t = np.where(closing, close_t, months - 1)
    firms.status = np.where(closing, np.where(rng.random(n) < 0.7, 1, 2), 0)


def add_identity(rng, firms, region, timeline, seed):
    """Codes, names and legal representatives."""
    n = len(firms)
    farmer = firms.kind == d.FARMER
    new_style = firms.established >= np.datetime64("2016-01-01")
    bodies = identity.org_bodies(firms.gidx, new_style, seed)
    towns = np.array(region.town_codes)[firms.town]
    prefixes = np.array([p or "" for p in d.USCC_PREFIX])[firms.kind]
    code = np.empty(n, dtype=TEXT)
    if (~farmer).any():
        code[~farmer] = identity.usccs(prefixes[~farmer], region.code, np.array(bodies)[~farmer])
    if farmer.any():
        code[farmer] = identity.household_codes(firms.gidx[farmer], towns[farmer], seed)
    firms.code = code
    firms.rep_name = identity.person_names(rng, n)
    firms.rep_id = identity.id_numbers(rng, region.code, timeline.end_date, n)
    firms.name = identity.firm_names(rng, firms.kind, firms.industry, firms.rep_name)


def registration_table(firms, region):
    """市场监管 registration rows: one per subject, as at the end of the window."""
    farmer = firms.kind == d.FARMER
    return Table("registration", {
        "subject_code": firms.code, "name": firms.name, "kind": np.array(d.KINDS)[firms.kind],
        "town_code": np.array(region.town_codes)[firms.town], "industry_code": d.IND_CODE[firms.industry],
        "established_on": np.where(farmer, np.datetime64("NaT"), firms.established),
        "registered_capital": firms.capital * 1e4, "status": np.array(("存续", "注销", "吊销"))[firms.status],
        "size_class": np.where(firms.size >= 0, np.array(d.SIZES)[firms.size.clip(0)], ""),
        "legal_rep_name": firms.rep_name, "legal_rep_id": firms.rep_id}, np.zeros(len(firms), dtype=int))
