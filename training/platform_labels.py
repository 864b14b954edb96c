"""Labels from the platform's own loans: a 12-month performance window on the monthly reports.

A loan is **bad** when a report on a month inside its window says 90 or more days past due, or
defaulted, or written off; **good** when the reports reach the end of the window (or say repaid)
without that; otherwise it is **censored** (its window is still running, or the lender has not
reported that far) and left out. Only reports on months up to the as-of date are read, so a model
trained as of a date learns nothing that was not known then. The loan's current `status` is never
read: it may describe a later month.
"""
import pandas as pd
from sqlalchemy import select

from app.credit.outcomes import BAD, BAD_DAYS_PAST_DUE, CENSORED, GOOD, WINDOW_MONTHS, window_labels
from app.entities import CreditSubject, Institution, Loan, RepaymentOutcome

__all__ = ["BAD", "BAD_DAYS_PAST_DUE", "CENSORED", "GOOD", "WINDOW_MONTHS", "platform_loans", "window_labels"]


def platform_loans(session, as_of):
    """The platform's loans disbursed by `as_of`, labelled; a DataFrame of the loans with
    `source`, `institution` (name), `loan_no` (the lender's reference), `subject_code`,
    `disbursed_on`, `outcome` (good, bad or censored), `amount`, `term_months` and `lender_kind`."""
    columns = ["loan_id", "institution", "lender_kind", "loan_no", "uscc", "household_id", "disbursed_on",
               "amount", "term_months"]
    rows = session.execute(
        select(Loan.id, Institution.name, Institution.kind, Loan.reference, CreditSubject.uscc,
               CreditSubject.household_id, Loan.disbursed_on, Loan.principal, Loan.term_months)
        .join(Institution, Institution.id == Loan.institution_id)
        .join(CreditSubject, CreditSubject.id == Loan.subject_id)
        .where(Loan.disbursed_on <= as_of).order_by(Loan.id)).all()
    loans = pd.DataFrame(rows, columns=columns)
    # The code the department records know the subject by (CreditSubject.identifier).
    loans["subject_code"] = loans["uscc"].fillna(loans["household_id"]).fillna("")
    loans["disbursed_on"] = pd.to_datetime(loans["disbursed_on"])
    loans["amount"] = loans["amount"].astype(float)
    loans["source"] = "platform"
    reports = session.execute(
        select(RepaymentOutcome.loan_id, RepaymentOutcome.month, RepaymentOutcome.outcome,
               RepaymentOutcome.days_past_due)
        .join(Loan, Loan.id == RepaymentOutcome.loan_id).where(Loan.disbursed_on <= as_of)).all()
    outcomes = pd.DataFrame(reports, columns=["loan_id", "month", "outcome", "days_past_due"])
    loans["outcome"] = window_labels(loans, outcomes, as_of)
    return loans.drop(columns=["uscc", "household_id"])

