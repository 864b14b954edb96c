"""Event features: court cases, penalties, procurement awards and the credit history, as of a date."""
import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)


def _joined(frame, targets, as_of, date_column):
    """Each target paired with its subject's events dated strictly before the target's as-of date."""
    if frame is None or not len(frame):
        return None
    left = pd.DataFrame({"target": np.arange(len(targets)), "subject_code": targets["subject_code"].to_numpy(),
                         "as_of": as_of.to_numpy()})
    pairs = left.merge(frame, on="subject_code", how="inner")
    pairs = pairs[pd.to_datetime(pairs[date_column]) < pairs["as_of"]]
    return pairs


def _per_target(pairs, values, n, how="sum"):
    if pairs is None or not len(pairs):
        return np.zeros(n)
    series = pd.Series(values, index=pairs.index).groupby(pairs["target"]).agg(how)
    return series.reindex(np.arange(n), fill_value=0).to_numpy(dtype=float)


def event_features(out, frames, targets, as_of):
    """Courts (24 months), penalties still inside their publicity period, procurement (24 months)."""
    n = len(targets)
    cases = _joined(frames.get("court_case"), targets, as_of, "filed_on")
    if cases is not None:
        recent = cases["filed_on"] >= cases["as_of"] - 730 * DAY
        defendant = recent & cases["role"].isin(["defendant", "enforced"])
        # Case status is today's, not the as-of date's: only the filing is dated, so only it is used.
        enforced = cases["role"] == "enforced"
        out["court_defendant_24m"] = _per_target(cases, defendant.astype(float), n)
        out["court_defendant_amount_wan_24m"] = _per_target(cases, cases["amount"].where(defendant, 0) / 10_000, n)
        out["court_enforced"] = _per_target(cases, enforced.astype(float), n)
        out["court_dishonest"] = _per_target(cases, cases["dishonest"].astype(float), n, "max")
    else:
        for name in ("court_defendant_24m", "court_defendant_amount_wan_24m", "court_enforced",
                     "court_dishonest"):
            out[name] = 0.0
    penalties = _joined(frames.get("penalty"), targets, as_of, "decided_on")
    for severity in ("general", "serious"):
        if penalties is None:
            out[f"penalty_{severity}_active"] = 0.0
            continue
        until = pd.to_datetime(penalties["publicity_until"])
        # Published, not yet past its publicity period, and not repaired: still counts. Once repaired, a
        # penalty is no longer used at all (信用修复管理办法), in training as in scoring.
        repaired = penalties["repaired"].astype(bool)
        active = (penalties["severity"] == severity) & (until >= penalties["as_of"]) & ~repaired
        out[f"penalty_{severity}_active"] = _per_target(penalties, active.astype(float), n)
    awards = _joined(frames.get("procurement"), targets, as_of, "awarded_on")
    recent_award = None if awards is None else (awards["awarded_on"] >= awards["as_of"] - 730 * DAY)
    out["procurement_awards_24m"] = _per_target(awards, None if awards is None else recent_award.astype(float), n)


def credit_history_features(out, frames, targets, as_of):
    """Past loans whose outcome was known (matured) before the as-of date, and recent declines."""
    n = len(targets)
    loans = _joined(frames.get("loan_feedback"), targets, as_of, "disbursed_on")
    if loans is not None:
        known = pd.to_datetime(loans["maturity_on"]) < loans["as_of"]
        settled = known & loans["outcome"].isin(["repaid", "defaulted", "overdue"])
        out["prior_loans_matured"] = _per_target(loans, settled.astype(float), n)
        out["prior_defaults"] = _per_target(loans, (known & (loans["outcome"] == "defaulted")).astype(float), n)
        out["prior_overdue"] = _per_target(loans, (known & (loans["outcome"] == "overdue")).astype(float), n)
    else:
        out["prior_loans_matured"] = out["prior_defaults"] = out["prior_overdue"] = 0.0
    applications = _joined(frames.get("application_history"), targets, as_of, "applied_on")
    recent = declined = None
    if applications is not None:
        recent = applications["applied_on"] >= applications["as_of"] - 365 * DAY
        declined = (recent & (applications["decision"] == "declined")).astype(float)
        recent = recent.astype(float)
    out["declines_12m"] = _per_target(applications, declined, n)
    out["applications_12m"] = _per_target(applications, recent, n)
