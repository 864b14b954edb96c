"""Simulating one chunk of the district: subjects, monthly records, events, loans and truth."""
from dataclasses import dataclass

import numpy as np

from . import district as d
from .events import Events, court_cases, number_cases, penalties, procurement, serials
from .firms import add_fates, add_identity, draw_firms, registration_table
from .grades import tax_grades
from .health import latent_health
from .lending import application_table, decide, draw_applications
from .loans import calibrate, disburse, lender_lawsuits, loan_tables, outcomes
from .monthly import activity, operations, social_insurance, tax_filings
from .premises import logistics, utilities
from .tables import Table

STREAMS = ("firms", "health", "activity", "tax", "social", "utilities", "logistics", "operations", "court",
           "penalty", "procurement", "grades", "applications", "decisions", "loans", "outcomes", "lawsuits",
           "mess", "corrections")
CORRECTION_SHARE = 0.01


@dataclass(frozen=True)
class Chunk:
    """The position of a chunk in the district, and its random streams."""

    seed: int
    index: int
    gidx: np.ndarray

    def rng(self, stream):
        """The random generator of one named stream of this chunk (streams do not disturb each other)."""
        return np.random.default_rng([self.seed, self.index, STREAMS.index(stream)])


@dataclass
class ChunkResult:
    """What a chunk produced: export tables, the tax corrections and the truth rows."""

    tables: list
    corrections: Table
    truth_loans: dict
    truth_firms: dict
    intercept: float


def _subjects(chunk, region, timeline):
    rng = chunk.rng("firms")
    firms = draw_firms(rng, region, timeline, chunk.gidx)
    add_fates(rng, firms, timeline.months)
    add_identity(rng, firms, region, timeline, chunk.seed)
    return firms


def _records(chunk, firms, timeline):
    health = latent_health(chunk.rng("health"), firms, timeline.months)
    act = activity(chunk.rng("activity"), firms, health, timeline)
    tax, observed = tax_filings(chunk.rng("tax"), firms, act, timeline)
    si, hf, social = social_insurance(chunk.rng("social"), firms, act, timeline)
    util, late = utilities(chunk.rng("utilities"), firms, act, timeline)
    observed.update(social)
    observed.update(late)
    logi = logistics(chunk.rng("logistics"), firms, act, timeline)
    ops = operations(chunk.rng("operations"), firms, act, observed["insured"], timeline)
    return act, observed, [tax, si, hf, util, logi, ops]


def _events(chunk, firms, act, timeline):
    court, (cf, ct, enforced, dishonest) = court_cases(chunk.rng("court"), firms, act, timeline)
    penalty, (pf, pt, serious) = penalties(chunk.rng("penalty"), firms, act, timeline, chunk.index)
    awards = procurement(chunk.rng("procurement"), firms, act, timeline, chunk.index)
    return court, [penalty, awards], Events(cf, ct, enforced, dishonest, pf, pt, serious)


def _dishonest_year(firms, events, timeline):
    """The year each firm was first listed as 失信被执行人 (0 for never)."""
    first = np.full(len(firms), 10_000)
    np.minimum.at(first, events.court_firm[events.dishonest], timeline.years[events.court_t[events.dishonest]])
    return np.where(first == 10_000, 0, first)


def _numbers(institution, dates, chunk):
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    return serials(institution * 10_000 + years, dates.astype(np.int64), chunk.index * 100_000)


def _lending(chunk, firms, act, observed, grades, events, timeline, intercept, target):
    apps = draw_applications(chunk.rng("applications"), firms, act, observed, grades, events, timeline)
    decide(chunk.rng("decisions"), apps)
    loans = disburse(chunk.rng("loans"), apps, timeline)
    if intercept is None:
        intercept = calibrate(loans, target)
    loans, pd, defaulted, state, days, dropped = outcomes(chunk.rng("outcomes"), loans, intercept, timeline)
    apps.approved[dropped] = False
    apps.reasons[dropped] = "debt_too_high"
    feedback, truth = loan_tables(firms, loans, pd, defaulted, state, days, timeline,
                                  _numbers(loans.institution, loans.disbursed_on, chunk))
    applications = application_table(apps, firms, timeline, _numbers(apps.institution, apps.applied_on, chunk))
    suits = lender_lawsuits(chunk.rng("lawsuits"), firms, loans, defaulted, timeline)
    return [feedback, applications], suits, truth, intercept


def _truth_firms(firms, act, timeline):
    alive = act.alive
    mean = np.where(alive, act.health, 0).sum(axis=1) / np.maximum(alive.sum(axis=1), 1)
    distress = np.where(firms.onset >= 0, (timeline.first + np.maximum(firms.onset, 0)).astype(str), "")
    return {"subject_code": firms.code, "kind": np.array(d.KINDS)[firms.kind],
            "latent_risk": np.round(-firms.mu, 4), "mean_health": np.round(mean, 4), "distress_from": distress}


def corrections(rng, tax):
    """Late corrections: about 1 % of the tax rows sent again with changed figures."""
    fixed = tax.take(np.flatnonzero(rng.random(len(tax)) < CORRECTION_SHARE))
    factor = rng.uniform(0.85, 1.15, len(fixed))
    for name in ("revenue", "vat", "income_tax"):
        fixed.columns[name] = np.round(fixed.columns[name] * factor, 2)
    fixed.columns["arrears"] = np.round(fixed.columns["arrears"] * rng.uniform(0, 1.1, len(fixed)), 2)
    return fixed


def simulate(chunk, region, timeline, intercept, target):
    """Everything one chunk of firms produces."""
    firms = _subjects(chunk, region, timeline)
    act, observed, monthly = _records(chunk, firms, timeline)
    court, others, events = _events(chunk, firms, act, timeline)
    grades, visible = tax_grades(chunk.rng("grades"), firms, act, observed,
                                 _dishonest_year(firms, events, timeline), timeline)
    loans, suits, truth, intercept = _lending(chunk, firms, act, observed, visible, events, timeline,
                                              intercept, target)
    court = Table.concat([court, suits])
    number_cases(court, chunk.index)
    tables = [registration_table(firms, region), *monthly, court, *others, *loans]
    if grades is not None:
        tables.append(grades)
    return ChunkResult(tables, corrections(chunk.rng("corrections"), monthly[0]), truth,
                       _truth_firms(firms, act, timeline), intercept)
