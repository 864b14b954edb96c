"""The active model in use: PSI by month against its training (or first-use) population, realised against
predicted default by grade as the loans' windows close, and fairness by subject kind."""
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from app.common.dates import add_months
from app.credit.metrics import reference_bins
from app.entities import CreditScore, Loan, ModelVersion, RepaymentOutcome
from app.extensions import db
from app.services import monitoring

from .. import factories


def test_the_wilson_interval_and_the_psi_bands():
    assert monitoring.wilson(0, 0) == (None, None)
    low, high = monitoring.wilson(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)
    assert monitoring.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert [monitoring.band(v) for v in (None, 0.05, 0.1, 0.2, 0.25, 0.9)] == [
        None, "stable", "watch", "watch", "shift", "shift"]


def active_version(app, tmp_path, training_scores=None):
    """An active version whose registry folder keeps (or not) its training score bins."""
    app.config["MODEL_REGISTRY"] = str(tmp_path)
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"auc": 0.7, **(
        {"training_scores": training_scores} if training_scores else {})}))
    version = ModelVersion(version="v1", path=str(folder), sha256="0" * 64, is_active=True)
    db.session.add(version)
    db.session.flush()
    return version


def add_scores(version, subjects, scores, at, grade="C", pd=0.05):
    for subject, score in zip(subjects, scores, strict=True):
        db.session.add(CreditScore(subject_id=subject.id, model_version_id=version.id, pd=pd, score=int(score),
                                   grade=grade, reasons=[], completeness={}, data_as_of=at.date(), computed_at=at))


def test_psi_by_month_against_the_training_population(app, tmp_path):
    rng = np.random.default_rng(1)
    training = rng.normal(600, 40, 5000)
    cuts, shares = reference_bins(training)
    version = active_version(app, tmp_path, {"n": 5000, "cuts": cuts.tolist(), "shares": shares.tolist(),
                                             "grades": {"C": 1.0}})
    subjects = [factories.SubjectFactory() for _ in range(200)]
    add_scores(version, subjects, rng.normal(600, 40, 200), datetime(2026, 9, 10))
    add_scores(version, subjects, rng.normal(660, 40, 200), datetime(2026, 10, 10), grade="B")
    add_scores(version, subjects[:10], rng.normal(600, 40, 10), datetime(2026, 11, 10))
    db.session.commit()
    report = monitoring.monitoring(db.session)
    assert report.version == "v1" and report.reference == "training" and report.reference_n == 5000
    months = {m["month"]: m for m in report.months}
    assert months["2026-09"]["band"] == "stable" and months["2026-10"]["band"] == "shift"
    assert months["2026-09"]["psi"] < 0.1 <= 0.25 <= months["2026-10"]["psi"]
    assert months["2026-11"]["psi"] is None and months["2026-11"]["n"] == 10  # too few to say
    assert months["2026-10"]["grades"]["B"] == 1.0


def test_without_training_bins_the_reference_is_the_first_use(app, tmp_path):
    version = active_version(app, tmp_path)
    subjects = [factories.SubjectFactory() for _ in range(60)]
    add_scores(version, subjects, np.linspace(500, 700, 60), datetime(2026, 9, 10))
    add_scores(version, subjects, np.linspace(500, 700, 60), datetime(2026, 10, 10))
    db.session.commit()
    report = monitoring.monitoring(db.session)
    assert report.reference == "first_use" and report.reference_n == 60
    assert [m["psi"] for m in report.months] == [0.0, 0.0]


def loan_with_reports(world, subject, disbursed_on, days_past_due, reference):
    """A loan of `subject` reported on monthly with these days past due (one a month from disbursement)."""
    product = world["product"]
    consent = factories.ConsentFactory(subject_id=subject.id, institution_id=product.institution_id)
    application = factories.ApplicationFactory(
        need=factories.NeedFactory(subject=subject), product=product, subject_id=subject.id,
        institution_id=product.institution_id, consent_id=consent.id, status="repaying",
        approved_amount=Decimal(100000))
    loan = Loan(application=application, subject_id=subject.id, institution_id=product.institution_id,
                reference=reference, principal=Decimal(100000), annual_rate=Decimal(5), term_months=12,
                repayment="annuity", disbursed_on=disbursed_on, maturity_on=add_months(disbursed_on, 12),
                status="repaying")
    db.session.add(loan)
    db.session.flush()
    for k, dpd in enumerate(days_past_due):
        db.session.add(RepaymentOutcome(loan_id=loan.id, month=add_months(disbursed_on.replace(day=1), k),
                                        days_past_due=dpd, amount_outstanding=Decimal(100000),
                                        outcome="repaying"))
    return loan


def test_realised_default_by_grade_at_disbursement(app, world, tmp_path):
    version = active_version(app, tmp_path)
    good, bad, running, unscored = (factories.SubjectFactory() for _ in range(4))
    scored_at = datetime(2025, 1, 5)
    add_scores(version, [good], [650], scored_at, grade="B", pd=0.02)
    add_scores(version, [bad], [560], scored_at, grade="D", pd=0.2)
    add_scores(version, [running], [650], scored_at, grade="B", pd=0.04)
    # A later score of the same firm does not count: the grade is the one the lender saw at disbursement.
    add_scores(version, [bad], [700], datetime(2025, 6, 1), grade="A", pd=0.01)
    loan_with_reports(world, good, date(2025, 2, 1), [0] * 13, "L-GOOD")
    loan_with_reports(world, bad, date(2025, 2, 1), [0, 0, 30, 60, 95], "L-BAD")
    loan_with_reports(world, running, date(2026, 8, 1), [0, 0, 0], "L-RUN")
    loan_with_reports(world, unscored, date(2025, 2, 1), [0] * 13, "L-UNSCORED")
    db.session.commit()
    report = monitoring.monitoring(db.session, as_of=date(2026, 12, 1))
    rows = {row["grade"]: row for row in report.calibration}
    assert (rows["B"]["loans"], rows["B"]["bad"], rows["B"]["predicted"]) == (1, 0, 0.02)
    assert (rows["D"]["loans"], rows["D"]["bad"], rows["D"]["realised"]) == (1, 1, 1.0)
    assert rows["A"]["loans"] == 0 and rows["A"]["realised"] is None
    assert report.outcomes["observed"] == 2  # the running loan's window is open; the unscored had no grade


def test_fairness_by_subject_kind_flags_a_kind_approved_far_less_often(app, world, tmp_path):
    version = active_version(app, tmp_path)
    product = world["product"]
    for kind, approved in (("enterprise", 20), ("farmer", 8)):
        for i in range(25):
            subject = factories.SubjectFactory(kind=kind, **({"uscc": None, "household_id": f"M{i}"}
                                                            if kind == "farmer" else {}))
            add_scores(version, [subject], [600], datetime.now() - timedelta(days=3), grade="C", pd=0.05)
            consent = factories.ConsentFactory(subject_id=subject.id, institution_id=product.institution_id)
            factories.ApplicationFactory(need=factories.NeedFactory(subject=subject), product=product,
                                         subject_id=subject.id, institution_id=product.institution_id,
                                         consent_id=consent.id, status="approved" if i < approved else "declined")
    db.session.commit()
    rows = {row["key"]: row for row in monitoring.monitoring(db.session).fairness["kind"]}
    assert rows["farmer"]["flagged"] and not rows["enterprise"]["flagged"]
    assert rows["farmer"]["approval_rate"] == pytest.approx(8 / 25) and rows["farmer"]["scored"] == 25
    assert rows["enterprise"]["grades"]["C"] == 1.0


def test_no_active_model_shows_nothing(app):
    assert monitoring.monitoring(db.session).version is None
