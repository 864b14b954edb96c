"""The one feature-building module: a subject's records as of a date → one row of features.

Only information dated strictly before the as-of date is used: a monthly record counts once its
month has ended before the as-of date, an event once it happened before it, an annual tax grade
once it was published (April of the following year), a past loan's outcome once it matured.
Missing sources stay missing (NaN): a thin file is not a bad file.
"""
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from app.ingest.sources import get_source

from .health import HEALTH_FEATURES, HEALTH_INPUTS
from .health import inputs as health_inputs
from .panel import FrameWindows, Grid, latest, month_number, ratio
from .peers import PEER_FEATURES, with_peers


@dataclass(frozen=True)
class Feature:
    """One model input: its family, whether higher means riskier (+1) or safer (-1), and its use."""

    name: str
    family: str
    kind: str = "num"  # num or cat
    monotone: int = 0
    reason: bool = True  # may be named as a reason for a score
    actionable: bool = False  # the firm can change it (used by "what would improve my grade")
    model_input: bool = True  # False: built with the others (peers and reasons read it) but not given to the model


FEATURES = (
    Feature("firm_age_years", "registration"),
    Feature("registered_capital_wan", "registration", reason=False),
    Feature("industry_division", "registration", kind="cat", reason=False),
    Feature("town", "registration", kind="cat", reason=False),
    Feature("subject_kind", "registration", kind="cat", reason=False),
    Feature("size_class", "registration", kind="cat", reason=False),
    Feature("tax_months_12", "tax"),
    Feature("tax_revenue_12m_wan", "tax", model_input=False),  # read within peers: see LEVELS below
    Feature("tax_revenue_yoy", "tax"),
    Feature("tax_revenue_cv", "tax"),
    Feature("tax_revenue_6m_change", "tax"),
    Feature("tax_late_filings_12m", "tax", monotone=1, actionable=True),
    Feature("tax_arrears_wan", "tax", monotone=1, actionable=True),
    Feature("tax_arrears_months_12m", "tax", monotone=1, actionable=True),
    Feature("tax_grade_rank", "tax", monotone=1),
    Feature("tax_grade_drop", "tax", monotone=1),
    Feature("tax_late_share_36m", "tax", monotone=1, actionable=True),
    Feature("tax_arrears_months_36m", "tax", monotone=1, actionable=True),
    Feature("revenue_per_insured_wan", "tax"),
    Feature("revenue_to_capital", "tax"),
    Feature("si_insured", "social_insurance", model_input=False),  # read within peers: see LEVELS below
    Feature("si_insured_change_12m", "social_insurance"),
    Feature("si_insured_change_6m", "social_insurance"),
    Feature("si_arrears_months_12m", "social_insurance", monotone=1, actionable=True),
    Feature("si_paid_ratio_12m", "social_insurance", monotone=-1, actionable=True),
    Feature("si_arrears_latest", "social_insurance", monotone=1, actionable=True),
    Feature("hf_members", "housing_fund"),
    Feature("hf_months_12", "housing_fund"),
    Feature("elec_usage_yoy", "utilities"),
    Feature("elec_usage_6m_change", "utilities"),
    Feature("util_late30_6m", "utilities", monotone=1, actionable=True),
    Feature("util_late_12m", "utilities", monotone=1, actionable=True),
    Feature("util_days_late_max_12m", "utilities", monotone=1, actionable=True),
    Feature("util_late_per_month_36m", "utilities", monotone=1, actionable=True),
    Feature("util_late30_months_36m", "utilities", monotone=1, actionable=True),
    Feature("elec_kwh_12m", "utilities", model_input=False),  # read within peers: see LEVELS below
    Feature("elec_kwh_per_capital", "utilities"),
    Feature("freight_yoy", "logistics"),
    Feature("ops_employees_change_12m", "operations"),
    Feature("court_defendant_24m", "courts", monotone=1),
    Feature("court_defendant_amount_wan_24m", "courts", monotone=1),
    Feature("court_enforced", "courts", monotone=1),
    Feature("court_dishonest", "courts", monotone=1),
    Feature("penalty_general_active", "penalties", monotone=1),
    Feature("penalty_serious_active", "penalties", monotone=1),
    Feature("procurement_awards_24m", "procurement"),
    Feature("prior_loans_matured", "credit_history"),
    Feature("prior_defaults", "credit_history", monotone=1),
    Feature("prior_overdue", "credit_history", monotone=1),
    Feature("declines_12m", "credit_history", monotone=1),
    Feature("applications_12m", "credit_history"),
    Feature("sources_present", "completeness", reason=False),
    Feature("as_of_month", "calendar", reason=False),
    Feature("loan_amount_wan", "loan", reason=False),
    Feature("loan_term_months", "loan", reason=False),
    Feature("lender_kind", "loan", kind="cat", reason=False),
    Feature("loan_to_revenue", "loan"),
    # Level features read within subject kind and size (percentile among peers, 0–100), from the peer
    # tables fitted in training and stored with the model version (app.credit.peers).
    Feature("elec_kwh_peer_pctl", "peers"),
    Feature("revenue_peer_pctl", "peers"),
    Feature("insured_peer_pctl", "peers"),
    # A learned estimate of health: each monthly view's level against peers, filtered by a local-level
    # Kalman filter fitted in training (app.credit.health), their mean and its change over six months.
    Feature("health_revenue", "health", monotone=-1),
    Feature("health_electricity", "health", monotone=-1),
    Feature("health_insured", "health", monotone=-1),
    Feature("health_index", "health", monotone=-1),
    Feature("health_index_change_6m", "health", monotone=-1),
)
# What a kind of subject does not have by its nature. A farm household (农户) is not a registered business:
# no registered capital or establishment date, almost never a tax filer (so no declared revenue and no tax
# credit grade), no insured employees, housing fund or operating reports. Such a value missing says nothing
# of the household beyond its kind, which alone decides it: it is never named as a reason for a subject of
# that kind (its share of the score is shown with the other factors, the kind among them). A value that is
# there (a farmer who does file tax) is read and told as for anyone.
NOT_EXPECTED = {"farmer": frozenset(
    [f.name for f in FEATURES if f.family in ("tax", "social_insurance", "housing_fund", "operations")]
    + ["firm_age_years", "elec_kwh_per_capital", "loan_to_revenue", "revenue_peer_pctl", "insured_peer_pctl",
       "health_revenue", "health_insured"])}
# The loan a subject's score assumes when no particular loan is asked about (a typical bank loan).
REFERENCE_LOAN = {"amount": 300_000.0, "term_months": 12, "lender_kind": "bank"}
FEATURE_NAMES = tuple(f.name for f in FEATURES)
# What the model reads. The three raw levels (a year's kWh, declared revenue, insured headcount) are not
# among them: read across every kind they judge a household's power use against a kiln's, and given the
# subject's kind and size, their percentiles among peers and the health estimates, they added nothing to
# the ranking on the tuning districts (docs/model.md, "Issue 16: levels only within peers").
MODEL_INPUTS = tuple(f.name for f in FEATURES if f.model_input)
# Not model inputs: how many months a subject's rates over months are taken over, so that a reason
# and a suggestion can say "13 late bills in 3 years" rather than "0.36 late bills a month".
CONTEXT_NAMES = ("tax_filed_months_36m", "util_billed_months_36m")
BY_NAME = {f.name: f for f in FEATURES}
GRADE_RANK = {"A": 0, "B": 1, "M": 2, "C": 3, "D": 4}
HISTORY_MONTHS = 36  # the long window of payment behaviour
COMPLETENESS_SOURCES = ("tax_filing", "social_insurance", "housing_fund", "utilities", "logistics", "operations")
# The department sources a feature is computed from (the records behind a reason).
FAMILY_SOURCES = {
    "registration": ("registration",), "tax": ("tax_filing",), "social_insurance": ("social_insurance",),
    "housing_fund": ("housing_fund",), "utilities": ("utilities",), "logistics": ("logistics",),
    "operations": ("operations",), "courts": ("court_case",), "penalties": ("penalty",),
    "procurement": ("procurement",), "credit_history": ("loan_feedback",), "loan": ("tax_filing",),
}
FEATURE_SOURCES = {"tax_grade_rank": ("tax_grade",), "tax_grade_drop": ("tax_grade",),
                   "revenue_per_insured_wan": ("tax_filing", "social_insurance"),
                   "revenue_to_capital": ("tax_filing", "registration"),
                   "elec_kwh_per_capital": ("utilities", "registration"),
                   "elec_kwh_peer_pctl": ("utilities", "registration"),
                   "revenue_peer_pctl": ("tax_filing", "registration"),
                   "insured_peer_pctl": ("social_insurance", "registration"),
                   "health_revenue": ("tax_filing",), "health_electricity": ("utilities",),
                   "health_insured": ("social_insurance",),
                   "health_index": ("tax_filing", "utilities", "social_insurance"),
                   "health_index_change_6m": ("tax_filing", "utilities", "social_insurance"),
                   "declines_12m": ("application_history",), "applications_12m": ("application_history",)}


def sources_of(feature):
    """The department sources whose records a feature is computed from."""
    return FEATURE_SOURCES.get(feature) or FAMILY_SOURCES.get(BY_NAME[feature].family, ())


def categories(towns):
    """The fixed category levels, so that training and scoring encode categories alike."""
    registration = get_source("registration")
    return {
        "industry_division": [f"{n:02d}" for n in range(1, 100)],
        "town": sorted(towns),
        "subject_kind": list(registration.column("kind").choices.values()),
        "size_class": list(registration.column("size_class").choices.values()),
        "lender_kind": list(get_source("loan_feedback").column("institution_kind").choices.values()),
    }


def build_features(frames, targets, towns, context=False, peers=None):
    """Features of each target row (`subject_code`, `as_of`), in FEATURE_NAMES order.

    `frames` maps source names to typed records (see app.credit.records). A target may name the
    loan asked about (`amount` in 元, `term_months`, `lender_kind`); otherwise REFERENCE_LOAN.
    With `context`, the CONTEXT_NAMES columns follow (the model never reads them); the HEALTH_INPUTS
    columns (the monthly values the health filter reads, app.credit.health) always come last. The percentile
    features within peers are filled from `peers` (a model version's fitted peer tables, see
    app.credit.peers) and are missing without them; a ModelBundle fills them from its own tables.
    """
    targets = targets.reset_index(drop=True)
    as_of = pd.to_datetime(targets["as_of"])
    grid = Grid.for_frames(frames, targets["subject_code"], as_of)
    windows = FrameWindows(frames, grid)
    out = {}
    _registration(out, frames.get("registration"), targets, as_of)
    published_year = (as_of.dt.year - (as_of.dt.month < 4).astype(int) - 1).to_numpy()
    monthly_features(out, windows, published_year)
    from .events import credit_history_features, event_features

    event_features(out, frames, targets, as_of)
    credit_history_features(out, frames, targets, as_of)
    out["sources_present"] = sum(windows.has(name) for name in COMPLETENESS_SOURCES)
    out["as_of_month"] = as_of.dt.month.to_numpy()
    loan = {key: targets[key].to_numpy() for key in ("amount", "term_months", "lender_kind") if key in targets}
    loan_features(out, len(targets), loan)
    peer_placeholders(out, len(targets))
    features = pd.DataFrame(out, index=targets.index)[list(FEATURE_NAMES) + (list(CONTEXT_NAMES) if context else [])
                                                      + list(HEALTH_INPUTS)]
    for name, levels in categories(towns).items():
        features[name] = pd.Categorical(features[name], categories=levels)
    return with_peers(features, peers)


def peer_placeholders(out, n):
    """The percentile and health features, missing until a model version's fitted tables fill them."""
    for name in PEER_FEATURES + HEALTH_FEATURES:
        out[name] = np.full(n, np.nan)


def monthly_features(out, windows, published_year):
    """Tax, social insurance, housing fund, utilities, logistics and operations features.

    `windows` is a FrameWindows (many targets) or a SubjectWindows (one subject): the formulas are
    the same for both, so that online scoring of one subject cannot drift from the batch.
    """
    _tax(out, windows, published_year)
    _social(out, windows)
    _premises(out, windows)
    _levels(out)
    health_inputs(out, windows)


def loan_features(out, n, loan):
    """The loan asked about: amount, term, kind of lender, and amount against declared revenue.

    `loan` maps `amount` (元), `term_months` and `lender_kind` to arrays of n; missing keys take
    REFERENCE_LOAN.
    """
    amount = (np.asarray(loan["amount"], dtype=float) if "amount" in loan
              else np.full(n, REFERENCE_LOAN["amount"]))
    term = (np.asarray(loan["term_months"], dtype=float) if "term_months" in loan
            else np.full(n, REFERENCE_LOAN["term_months"], dtype=float))
    kind = np.asarray(loan["lender_kind"]) if "lender_kind" in loan else np.full(n, REFERENCE_LOAN["lender_kind"])
    out["loan_amount_wan"] = amount / 10_000
    out["loan_term_months"] = term
    out["lender_kind"] = kind
    with np.errstate(invalid="ignore", divide="ignore"):
        out["loan_to_revenue"] = np.where(out["tax_revenue_12m_wan"] > 0,
                                          out["loan_amount_wan"] / out["tax_revenue_12m_wan"], np.nan)


def _registration(out, frame, targets, as_of):
    columns = ["established_on", "registered_capital", "industry_code", "town_code", "kind", "size_class"]
    if frame is None:
        frame = pd.DataFrame(columns=["subject_code", *columns])
    static = frame.set_index("subject_code")[columns].reindex(targets["subject_code"]).reset_index(drop=True)
    out["firm_age_years"] = ((as_of - pd.to_datetime(static["established_on"])).dt.days / 365.25).to_numpy()
    out["registered_capital_wan"] = (static["registered_capital"].astype(float) / 10_000).to_numpy()
    out["industry_division"] = static["industry_code"].astype("string").str[:2].to_numpy()
    out["town"] = static["town_code"].to_numpy()
    out["subject_kind"] = static["kind"].to_numpy()
    out["size_class"] = static["size_class"].to_numpy()


def _tax(out, windows, published_year):
    revenue = windows.window("tax_filing", "revenue", 24)
    recent, before = revenue[:, :12], revenue[:, 12:]
    out["tax_revenue_6m_change"] = ratio(np.nansum(revenue[:, :6], axis=1), np.nansum(revenue[:, 6:12], axis=1),
                                         np.sum(~np.isnan(revenue[:, :6]), axis=1) >= 4,
                                         np.sum(~np.isnan(revenue[:, 6:12]), axis=1) >= 4)
    counted = np.sum(~np.isnan(recent), axis=1)
    out["tax_months_12"] = np.where(windows.has("tax_filing"), counted, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as intended
        total = np.nansum(recent, axis=1)
        out["tax_revenue_12m_wan"] = np.where(counted > 0, total / 10_000, np.nan)
        out["tax_revenue_yoy"] = ratio(total, np.nansum(before, axis=1), counted >= 6,
                                       np.sum(~np.isnan(before), axis=1) >= 6)
        out["tax_revenue_cv"] = np.where(counted >= 6, np.nanstd(recent, axis=1) / np.nanmean(recent, axis=1), np.nan)
    # Three years of lateness and arrears (a firm's usual conduct), the newest 12 months of them too.
    late = windows.window("tax_filing", "on_time", HISTORY_MONTHS, negate=True)
    out["tax_late_filings_12m"] = np.where(counted > 0, np.nansum(late[:, :12], axis=1), np.nan)
    arrears = windows.window("tax_filing", "arrears", HISTORY_MONTHS)
    out["tax_arrears_wan"] = latest(arrears[:, :12]) / 10_000
    out["tax_arrears_months_12m"] = np.where(counted > 0, np.nansum(arrears[:, :12] > 0, axis=1), np.nan)
    # Shares and counts over the months on file: a subject with one year of filings is judged on it.
    filed = np.sum(~np.isnan(late), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["tax_late_share_36m"] = np.where(filed > 0, np.nansum(late, axis=1) / filed, np.nan)
    out["tax_arrears_months_36m"] = np.where(filed > 0, np.nansum(arrears > 0, axis=1), np.nan)
    out["tax_filed_months_36m"] = filed.astype(float)
    _grades(out, windows, published_year)


def _grades(out, windows, published_year):
    """The latest published 纳税信用等级 (the grade of year Y is out in April Y+1) and whether it fell."""
    rank = windows.by_year("tax_grade", "grade", GRADE_RANK, published_year)
    previous = windows.by_year("tax_grade", "grade", GRADE_RANK, published_year - 1)
    out["tax_grade_rank"] = rank
    out["tax_grade_drop"] = np.where(np.isnan(rank) | np.isnan(previous), np.nan, (rank > previous).astype(float))


def _social(out, windows):
    insured = windows.window("social_insurance", "insured", 13)
    out["si_insured"] = latest(insured)
    out["si_insured_change_6m"] = ratio(insured[:, 0], insured[:, 6], ~np.isnan(insured[:, 0]),
                                        ~np.isnan(insured[:, 6]))
    out["si_insured_change_12m"] = ratio(insured[:, 0], insured[:, 12], ~np.isnan(insured[:, 0]),
                                         ~np.isnan(insured[:, 12]))
    arrears = windows.window("social_insurance", "arrears", 12)
    present = np.sum(~np.isnan(arrears), axis=1)
    out["si_arrears_months_12m"] = np.where(present > 0, np.nansum(arrears > 0, axis=1), np.nan)
    out["si_arrears_latest"] = np.where(np.isnan(arrears[:, 0]), np.nan, (arrears[:, 0] > 0).astype(float))
    due = np.nansum(windows.window("social_insurance", "due", 12), axis=1)
    paid = np.nansum(windows.window("social_insurance", "paid", 12), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["si_paid_ratio_12m"] = np.where((present > 0) & (due > 0), paid / due, np.nan)
    members = windows.window("housing_fund", "members", 12)
    out["hf_members"] = latest(members)
    out["hf_months_12"] = np.where(windows.has("housing_fund"), np.sum(~np.isnan(members), axis=1), np.nan)


def _premises(out, windows):
    usage = windows.window("utilities", "usage", 15, where=("utility", "electricity"))
    out["elec_usage_yoy"] = _three_month_yoy(usage)
    out["elec_usage_6m_change"] = ratio(np.nansum(usage[:, :3], axis=1), np.nansum(usage[:, 6:9], axis=1),
                                        np.sum(~np.isnan(usage[:, :3]), axis=1) == 3,
                                        np.sum(~np.isnan(usage[:, 6:9]), axis=1) == 3)
    # Twelve whole months of electricity: the year's use, an activity level.
    out["elec_kwh_12m"] = np.where(np.sum(~np.isnan(usage[:, :12]), axis=1) == 12, np.nansum(usage[:, :12], axis=1),
                                   np.nan)
    # Three years of late bills (a firm's usual conduct), the newest 12 months of them too.
    late = windows.window("utilities", "paid_on_time", HISTORY_MONTHS, how="sum", negate=True)
    days = windows.window("utilities", "days_late", HISTORY_MONTHS, how="max")
    present = np.sum(~np.isnan(late[:, :12]), axis=1)
    out["util_late_12m"] = np.where(present > 0, np.nansum(late[:, :12], axis=1), np.nan)
    out["util_late30_6m"] = np.where(present > 0, np.nansum(days[:, :6] > 30, axis=1), np.nan)
    with np.errstate(invalid="ignore"):
        out["util_days_late_max_12m"] = np.where(
            present > 0, np.nanmax(np.where(np.isnan(days[:, :12]), -1, days[:, :12]), axis=1), np.nan)
    billed = np.sum(~np.isnan(late), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["util_late_per_month_36m"] = np.where(billed > 0, np.nansum(late, axis=1) / billed, np.nan)
    out["util_late30_months_36m"] = np.where(billed > 0, np.nansum(days > 30, axis=1), np.nan)
    out["util_billed_months_36m"] = billed.astype(float)
    out["freight_yoy"] = _three_month_yoy(windows.window("logistics", "freight_tonnes", 15))
    staff = windows.window("operations", "employees", 13)
    out["ops_employees_change_12m"] = ratio(staff[:, 0], staff[:, 12], ~np.isnan(staff[:, 0]),
                                            ~np.isnan(staff[:, 12]))


def _levels(out):
    """How much business a firm does for its size: revenue and power use against staff and capital.

    A firm's health shows in what it sells and uses against peers of its size; staff and registered
    capital are measures of size that do not move with its fortunes from month to month.
    """
    kwh = np.asarray(out["elec_kwh_12m"], dtype=float)
    revenue = np.asarray(out["tax_revenue_12m_wan"], dtype=float)
    insured = np.asarray(out["si_insured"], dtype=float)
    capital = np.asarray(out["registered_capital_wan"], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["revenue_per_insured_wan"] = np.where(insured > 0, revenue / insured, np.nan)
        out["revenue_to_capital"] = np.where(capital > 0, revenue / capital, np.nan)
        out["elec_kwh_per_capital"] = np.where(capital > 0, kwh / capital, np.nan)


def _three_month_yoy(matrix):
    """Last three months against the same three months a year earlier (seasonality cancels)."""
    recent, year_ago = matrix[:, :3], matrix[:, 12:15]
    return ratio(np.nansum(recent, axis=1), np.nansum(year_ago, axis=1),
                 np.sum(~np.isnan(recent), axis=1) == 3, np.sum(~np.isnan(year_ago), axis=1) == 3)


def month_index(as_of):
    """The month number of each as-of date (months strictly before it have ended)."""
    return month_number(pd.to_datetime(as_of))
