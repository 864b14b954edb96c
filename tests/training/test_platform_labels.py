"""Labels from the platform's own loans: the 12-month window, censoring, no look-ahead, and both
sources of labels counted once each in the examples and the model card."""
import json
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from app.common.dates import add_months, month_of
from app.common.region import town_codes
from app.entities import Loan, RepaymentOutcome
from app.extensions import db
from training import dataset
from training.evaluation import model_card
from training.platform_labels import window_labels

from ..conftest import run_module
from ..factories import InstitutionFactory, SubjectFactory, add_records

DISBURSED = date(2024, 1, 10)


def _reports(loan_id, months, bad_month=None, days_past_due=95, outcome="overdue", disbursed=DISBURSED):
    """Monthly reports on months 0..months-1 after disbursement: repaying, except `bad_month`."""
    rows = []
    for k in range(months):
        worse = k == bad_month
        rows.append({"loan_id": loan_id, "month": pd.Timestamp(month_of(add_months(disbursed, k))),
                     "outcome": outcome if worse else "repaying", "days_past_due": days_past_due if worse else 0})
    return rows


def _label(reports, as_of, disbursed=DISBURSED):
    loans = pd.DataFrame({"loan_id": [1], "disbursed_on": [pd.Timestamp(disbursed)]})
    outcomes = pd.DataFrame(reports, columns=["loan_id", "month", "outcome", "days_past_due"])
    return window_labels(loans, outcomes, pd.Timestamp(as_of)).iloc[0]


AFTER_THE_WINDOW = date(2025, 6, 30)


@pytest.mark.parametrize(("reports", "as_of", "expected"), [
    pytest.param(_reports(1, 16, bad_month=4), AFTER_THE_WINDOW, "bad", id="95 DPD in month 4"),
    pytest.param(_reports(1, 16, bad_month=14), AFTER_THE_WINDOW, "good", id="95 DPD in month 14"),
    pytest.param(_reports(1, 16, bad_month=4, days_past_due=89), AFTER_THE_WINDOW, "good", id="89 DPD"),
    pytest.param(_reports(1, 16, bad_month=12), AFTER_THE_WINDOW, "bad", id="95 DPD in month 12"),
    pytest.param(_reports(1, 8, bad_month=7, days_past_due=0, outcome="defaulted"), AFTER_THE_WINDOW, "bad",
                 id="declared defaulted"),
    pytest.param(_reports(1, 3, bad_month=2, days_past_due=0, outcome="written_off"), AFTER_THE_WINDOW, "bad",
                 id="written off"),
    pytest.param(_reports(1, 6, bad_month=5, days_past_due=0, outcome="repaid"), AFTER_THE_WINDOW, "good",
                 id="repaid in month 5"),
    pytest.param(_reports(1, 7), add_months(DISBURSED, 6), "censored", id="6 months old, no problem"),
    pytest.param(_reports(1, 9), AFTER_THE_WINDOW, "censored", id="not reported through the window"),
    pytest.param(_reports(1, 7, bad_month=6), date(2024, 6, 30), "censored", id="the bad month after the as-of date"),
    pytest.param(_reports(1, 7, bad_month=6), date(2024, 7, 1), "bad", id="the bad month by the as-of date"),
    pytest.param(_reports(1, 16), date(2025, 1, 9), "censored", id="month 12 reported, the window ends the 10th"),
    pytest.param(_reports(1, 16), date(2025, 1, 10), "good", id="the window ended"),
])
def test_the_window_and_the_bad_definition(reports, as_of, expected):
    assert _label(reports, as_of) == expected


def test_a_report_on_a_month_after_the_as_of_date_is_not_read():
    clean_year = _reports(1, 13)
    september_default = {"loan_id": 1, "month": pd.Timestamp(2024, 9, 1), "outcome": "defaulted",
                         "days_past_due": 120}
    reports = [r for r in clean_year if r["month"] != september_default["month"]] + [september_default]
    # The default on September 2024 (month 8) exists in the table, but a model as of August knows nothing of it.
    assert _label(reports, date(2024, 8, 31)) == "censored"
    assert _label(reports, date(2025, 1, 31)) == "bad"
    # After the window (month 13), a default no longer makes the loan bad.
    february_default = {**september_default, "month": pd.Timestamp(2025, 2, 1)}
    assert _label([*clean_year, february_default], date(2025, 3, 1)) == "good"


# Database: department feedback and platform loans together.

AS_OF = date(2025, 6, 30)


def _feedback(institution, loan_no, subject, disbursed, outcome, max_dpd=0):
    payload = {"loan_no": loan_no, "institution": institution, "institution_kind": "bank",
               "subject_code": subject.uscc, "disbursed_on": disbursed.isoformat(),
               "maturity_on": add_months(disbursed, 12).isoformat(), "principal": 300000.0, "annual_rate": 4.5,
               "outcome": outcome, "max_days_past_due": max_dpd}
    return disbursed, payload


def _platform_loan(bank, subject, reference, disbursed, reports):
    loan = Loan(subject_id=subject.id, institution_id=bank.id, reference=reference, principal=Decimal("200000"),
                annual_rate=Decimal("4.5"), term_months=12, repayment="annuity", disbursed_on=disbursed,
                maturity_on=add_months(disbursed, 12), status="repaying")
    db.session.add(loan)
    db.session.flush()
    for row in reports:
        db.session.add(RepaymentOutcome(loan_id=loan.id, month=row["month"].date(), outcome=row["outcome"],
                                        days_past_due=row["days_past_due"], amount_outstanding=Decimal("1000")))
    return loan


@pytest.fixture
def two_sources(app):
    """Department feedback on 4 loans (1 bad, 1 still running) and 4 platform loans (1 bad, 1 good,
    1 censored, 1 good that a department file also holds under the same number)."""
    bank = InstitutionFactory(name="甲银行")
    firm = SubjectFactory()
    loan_date = date(2022, 3, 1)
    add_records(firm, "loan_feedback", [
        _feedback("甲银行", "D-1", firm, loan_date, "repaid"),
        _feedback("甲银行", "D-2", firm, add_months(loan_date, 1), "defaulted", 120),
        _feedback("乙银行", "P-4", firm, add_months(loan_date, 2), "repaid"),
        _feedback("甲银行", "P-4", firm, date(2024, 2, 1), "overdue", 45),
        _feedback("甲银行", "D-5", firm, date(2025, 6, 1), "current"),
    ])
    _platform_loan(bank, firm, "P-1", DISBURSED, _reports(0, 16, bad_month=4))
    _platform_loan(bank, firm, "P-2", DISBURSED, _reports(0, 16))
    recent = add_months(AS_OF, -6)
    _platform_loan(bank, firm, "P-3", recent, _reports(0, 6, disbursed=recent))
    _platform_loan(bank, firm, "P-4", date(2024, 2, 1), _reports(0, 16, disbursed=date(2024, 2, 1)))
    db.session.commit()
    return firm


def test_both_sources_give_labels_and_a_loan_counts_once(two_sources):
    examples = dataset.examples_from_db(db.session, town_codes("610203"), AS_OF)
    loans = examples.loans.assign(bad=examples.y)
    by_key = {(r.source, r.institution, r.loan_no): r.bad for r in loans.itertuples()}
    assert by_key == {
        ("department", "甲银行", "D-1"): 0, ("department", "甲银行", "D-2"): 1,
        ("department", "乙银行", "P-4"): 0,  # another lender's number: not the platform's loan
        ("platform", "甲银行", "P-1"): 1, ("platform", "甲银行", "P-2"): 0, ("platform", "甲银行", "P-4"): 0,
    }
    assert examples.label_counts == {"department": {"good": 2, "bad": 1},
                                     "platform": {"good": 2, "bad": 1, "censored": 1}, "duplicates_dropped": 1}
    assert len(examples.X) == len(loans) and list(loans["disbursed_on"]) == sorted(loans["disbursed_on"])


def test_the_as_of_date_limits_the_platform_loans_read(two_sources):
    examples = dataset.examples_from_db(db.session, town_codes("610203"), date(2024, 6, 30))
    # P-1's bad month 4 (May 2024) is known by then; P-2 and P-4 are still inside their windows,
    # P-3 was not yet disbursed.
    assert examples.label_counts["platform"] == {"good": 0, "bad": 1, "censored": 2}


def test_the_model_card_says_where_the_labels_came_from(two_sources):
    from training.train import LABEL_DEFINITION

    examples = dataset.examples_from_db(db.session, town_codes("610203"), AS_OF)
    metadata = {"data_fingerprint": examples.fingerprint, "code_revision": "x", "label": LABEL_DEFINITION,
                "label_counts": examples.label_counts,
                "scale": {"base_points": 600, "base_odds": 50, "pdo": 20, "grade_names": [], "grade_upper_pd": []}}
    report = {"holdout": {"train_loans": 4, "loans": 2, "from": "2024-01-10"}, "auc": 0.5, "baseline_auc": 0.5,
              "ks": 0.1, "brier": 0.1, "ece": 0.01, "psi": 0.01, "fairness": {}}
    card = model_card("v1", metadata, report)
    assert "| department loan feedback (贷后反馈) | 2 | 1 | — |" in card
    assert "| platform loans | 2 | 1 | 1 |" in card
    assert "counted once as the platform's: 1" in card
    assert "90+ days past due" in card


def test_train_from_the_database_uses_both_sources(app, database_url, tmp_path):
    """`training.train --db` on department feedback and platform loans: the card counts both."""
    bank = InstitutionFactory(name="甲银行")
    firms = [SubjectFactory() for _ in range(4)]
    for n in range(60):
        firm, disbursed = firms[n % 4], add_months(date(2021, 1, 5), n // 3)
        bad = n % 5 == 0
        add_records(firm, "loan_feedback", [_feedback("甲银行", f"D-{n}", firm, disbursed,
                                                      "defaulted" if bad else "repaid", 120 if bad else 0)])
        disbursed = add_months(date(2022, 1, 5), n // 3)
        _platform_loan(bank, firm, f"P-{n}", disbursed,
                       _reports(0, 14, bad_month=3 if n % 4 == 0 else None, disbursed=disbursed))
    db.session.commit()
    result = run_module("training.train", "--db", database_url, "--out", str(tmp_path), "--as-of", "2025-06-30")
    folder = tmp_path / result["version"]
    counts = json.loads((folder / "metadata.json").read_text())["label_counts"]
    # The department's: the 24 loans that matured before its export (the latest disbursement), 5 bad.
    assert counts == {"department": {"good": 19, "bad": 5}, "platform": {"good": 45, "bad": 15, "censored": 0},
                      "duplicates_dropped": 0}
    card = (folder / "card.md").read_text()
    assert "| department loan feedback (贷后反馈) | 19 | 5 | — |" in card
    assert "| platform loans | 45 | 15 | 0 |" in card
