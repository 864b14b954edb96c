"""A loan's outcome on the platform's monthly reports, within a fixed performance window.

The one definition that training labels the platform's loans with (training/platform_labels.py) and that
the regulator's model monitoring compares predicted PDs against (app/services/monitoring.py).

A loan is **bad** when a report on a month inside its window says 90 or more days past due, or
defaulted, or written off; **good** when the reports reach the end of the window (or say repaid)
without that; otherwise it is **censored** (its window is still running, or the lender has not
reported that far) and left out. Only reports on months up to the as-of date are read. The loan's
current `status` is never read: it may describe a later month.
"""
import pandas as pd

from app.common.dates import add_months
from app.common.vocab import DECLARED_OUTCOMES, REPAYMENT_OUTCOMES

# The usual performance window and bad definition (90+ DPD is at least 次级 in 五级分类).
WINDOW_MONTHS = 12
BAD_DAYS_PAST_DUE = 90
# The outcomes only an officer declares (defaulted, written off) are bad whatever the days past due.
BAD_OUTCOMES = tuple(DECLARED_OUTCOMES)
REPAID = REPAYMENT_OUTCOMES.subset("repaid")[0]
GOOD, BAD, CENSORED = "good", "bad", "censored"


def _month_index(days):
    days = pd.to_datetime(days)
    return days.dt.year * 12 + days.dt.month - 1


def window_labels(loans, outcomes, as_of):
    """good, bad or censored for each loan (a Series on `loans`' index).

    `loans` has `loan_id` and `disbursed_on`; `outcomes` has `loan_id`, `month` (its first day),
    `outcome` and `days_past_due`. The window holds the reports on the disbursement month (k = 0)
    and the WINDOW_MONTHS months after it; the last of them (k = 12) is the month in which the
    window ends (disbursement + 12 months), so a good loan has been watched for a whole year.
    """
    as_of = pd.Timestamp(as_of)
    start = dict(zip(loans["loan_id"], _month_index(loans["disbursed_on"]), strict=True))
    reports = outcomes[pd.to_datetime(outcomes["month"]) <= as_of].copy()
    reports["k"] = _month_index(reports["month"]) - reports["loan_id"].map(start)
    inside = reports[reports["k"].between(0, WINDOW_MONTHS)]
    bad = inside["outcome"].isin(BAD_OUTCOMES) | (inside["days_past_due"] >= BAD_DAYS_PAST_DUE)
    repaid = inside["outcome"] == REPAID
    window_end = pd.to_datetime(loans["disbursed_on"]).map(
        lambda day: pd.Timestamp(add_months(day.date(), WINDOW_MONTHS)))
    reached_end = loans["loan_id"].isin(set(inside.loc[inside["k"] == WINDOW_MONTHS, "loan_id"]))
    watched = (reached_end & (window_end <= as_of)) | loans["loan_id"].isin(set(inside.loc[repaid, "loan_id"]))
    labels = pd.Series(CENSORED, index=loans.index)
    labels[watched] = GOOD
    labels[loans["loan_id"].isin(set(inside.loc[bad, "loan_id"]))] = BAD
    return labels
