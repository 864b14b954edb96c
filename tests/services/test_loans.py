"""Loans: the disbursement of an accepted offer closes its need and tells the need's other
applications; each month's figures move the loan (and its application) to the right status."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.dates import add_months, local_date, month_of
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import LOAN_STATUSES, overdue_band
from app.entities import Application, AuditEntry, Loan, Match, RepaymentOutcome
from app.extensions import db
from app.services import applications, loans
from app.services.applications import TRANSITIONS

from .. import factories

CLOSING_NOTE = "该融资需求已通过其他申请获得放款，本申请随之关闭。"


def count(entity):
    return db.session.scalar(select(func.count(entity.id)))


@pytest.fixture
def accepted(world):
    """The world's application with its offer accepted (decided 101 days ago)."""
    return factories.put_in_status(world, "offer_accepted")


def disburse(world, application, **changes):
    args = {"amount_yuan": Decimal("400000.00"), "disbursed_on": local_date() - timedelta(days=3),
            "reference": "YTNS-2026-0001", "note": None}
    return loans.disburse(db.session, application, world["users"]["officer"], **{**args, **changes})


# --- disbursement ------------------------------------------------------------------------------

def test_disbursement_creates_the_loan_from_the_offer(world, accepted):
    on = local_date() - timedelta(days=3)
    loan = disburse(world, accepted, amount_yuan=Decimal("350000.00"), disbursed_on=on, reference=" YT-1 ",
                    note="首笔放款")
    db.session.commit()
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert (loan.application_id, loan.subject_id, loan.institution_id) == (
        accepted.id, world["firm"].id, world["bank_a"].id)
    assert (loan.reference, loan.principal, loan.annual_rate, loan.term_months, loan.repayment) == (
        "YT-1", Decimal("350000.00"), Decimal("4.5"), 12, "annuity")
    assert (loan.disbursed_on, loan.maturity_on, loan.status) == (on, add_months(on, 12), "disbursed")
    assert loan.recorded_by_id == world["users"]["officer"].id
    assert accepted.status == "disbursed" and accepted.version == 2
    assert accepted.events[-1].note == "首笔放款"
    assert db.session.scalars(select(AuditEntry.action)).all()[-1] == "loan.disburse"


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount_yuan": Decimal("400000.01")}, "amount"),
    ({"amount_yuan": Decimal("0")}, "amount"),
    ({"amount_yuan": None}, "amount"),
    ({"disbursed_on": None}, "disbursed_on"),
    ({"disbursed_on": date.today() + timedelta(days=2)}, "disbursed_on"),
    ({"disbursed_on": date.today() - timedelta(days=120)}, "disbursed_on"),  # before the approval
    ({"reference": "  "}, "reference"),
    ({"reference": "L" * 65}, "reference"),
])
def test_a_bad_disbursement_is_refused_and_stages_nothing(world, accepted, changes, field):
    with pytest.raises(InvalidInput) as caught:
        disburse(world, accepted, **changes)
    assert caught.value.field == field
    assert accepted.status == "offer_accepted" and not db.session.new
    db.session.rollback()
    assert count(Loan) == 0


def test_a_loan_account_is_unique_within_its_institution(world, accepted):
    other = factories.ApplicationFactory(need=factories.NeedFactory(subject=world["firm"]), product=world["product"],
                                         subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                                         consent_id=world["consent"].id)
    db.session.commit()
    disburse(world, accepted)
    db.session.commit()
    factories.put_in_status({**world, "application": other}, "offer_accepted")
    with pytest.raises(InvalidInput) as caught:
        disburse(world, other)
    assert caught.value.field == "reference"


def test_disbursement_closes_the_need_and_tells_its_other_applications(world, accepted):
    need = world["need"]
    others = {}
    for status, institution in [("in_review", world["bank_b"]), ("approved", world["bank_a"]),
                                ("offer_accepted", world["bank_b"]), ("declined", world["bank_b"])]:
        product = factories.ProductFactory(institution=institution)
        other = factories.ApplicationFactory(need=need, product=product, subject_id=world["firm"].id,
                                             institution_id=institution.id, consent_id=world["consent"].id,
                                             status=status)
        others[status] = other
    db.session.add(Match(need_id=need.id, product_id=world["product"].id, eligible=True, rule_results=[]))
    db.session.commit()
    disburse(world, accepted)
    db.session.commit()
    db.session.expire_all()
    assert need.status == "closed"
    assert db.session.scalar(select(func.count(Match.id)).where(Match.need_id == need.id)) == 0
    expected = {"in_review": "withdrawn", "approved": "offer_declined", "offer_accepted": "offer_declined",
                "declined": "declined"}
    for status, other in others.items():
        assert other.status == expected[status], status
        if status != "declined":
            event = other.events[-1]
            assert (event.from_status, event.to_status, event.actor_id, event.note) == (
                status, expected[status], None, CLOSING_NOTE)
            assert other.version == 2
    with pytest.raises(NotAllowed):
        applications.apply(db.session, need, factories.ProductFactory(institution=world["bank_b"]),
                           world["users"]["firm"], True)


def test_a_need_closed_by_a_disbursement_in_english_keeps_its_note_in_chinese(app, world, accepted):
    pending = factories.ApplicationFactory(need=world["need"], product=factories.ProductFactory(),
                                           subject_id=world["firm"].id, institution_id=world["bank_b"].id,
                                           consent_id=world["consent"].id)
    db.session.commit()
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        disburse(world, accepted)
    assert pending.events[-1].note == CLOSING_NOTE


# --- monthly status ----------------------------------------------------------------------------

def loan_in(world, status):
    """The world's loan (40 万元, disbursed 100 days ago) in `status`."""
    return factories.put_in_status(world, status).loan


def report(world, loan, months_after=1, days_past_due=0, outstanding="300000", declared=None, **kwargs):
    month = month_of(add_months(loan.disbursed_on, months_after))
    return loans.record_month(db.session, loan, world["users"]["officer"], month, days_past_due,
                              Decimal(outstanding), declared, **kwargs)


# (days past due, balance, declared) → the loan's status and the band of the report.
FIGURES = [
    ((0, "300000", None), "repaying", None),
    ((1, "300000", None), "overdue", "dpd_1_30"),
    ((30, "300000", None), "overdue", "dpd_1_30"),
    ((31, "300000", None), "overdue", "dpd_31_90"),
    ((90, "300000", None), "overdue", "dpd_31_90"),
    ((91, "300000", None), "overdue", "dpd_90_plus"),
    ((0, "0", None), "repaid", None),
    ((120, "300000", "defaulted"), "defaulted", "dpd_90_plus"),
    ((200, "300000", "written_off"), "written_off", "dpd_90_plus"),
]


@pytest.mark.parametrize("from_status", ["disbursed", "repaying", "overdue", "defaulted"])
@pytest.mark.parametrize(("figures", "outcome", "band"), FIGURES)
def test_a_months_figures_give_the_status_the_table_allows(world, from_status, figures, outcome, band):
    loan = loan_in(world, from_status)
    application = loan.application
    days, balance, declared = figures
    allowed = outcome == from_status or outcome in TRANSITIONS[from_status]
    if not allowed:
        with pytest.raises(NotAllowed):
            report(world, loan, days_past_due=days, outstanding=balance, declared=declared)
        db.session.rollback()
        assert (loan.status, application.status, count(RepaymentOutcome)) == (from_status, from_status, 0)
        return
    row = report(world, loan, days_past_due=days, outstanding=balance, declared=declared, note="已电话核实")
    db.session.commit()
    db.session.expire_all()
    assert (row.outcome, overdue_band(row.days_past_due)) == (outcome, band)
    assert (loan.status, application.status, application.version) == (outcome, outcome, 2)
    moved = outcome != from_status
    assert len(application.events) == (2 if moved else 1)
    if moved:
        assert application.events[-1].note == f"{row.month:%Y-%m} · 已电话核实"


@pytest.mark.parametrize("status", ["repaid", "written_off"])
def test_a_closed_loan_takes_no_more_reports(world, status):
    loan = loan_in(world, status)
    with pytest.raises(NotAllowed) as caught:
        report(world, loan)
    assert caught.value.message == f"该贷款状态为“{LOAN_STATUSES.label(status)}”，不再报送月度状态。"  # not "已已结清"


@pytest.mark.parametrize(("changes", "field"), [
    ({"months_after": -1}, "month"),
    ({"months_after": 6}, "month"),  # a month still to come
    ({"days_past_due": -1}, "days_past_due"),
    ({"days_past_due": None}, "days_past_due"),
    ({"days_past_due": 4000}, "days_past_due"),
    ({"outstanding": "-1"}, "outstanding"),
    ({"outstanding": "400000.01"}, "outstanding"),
    ({"outstanding": "0", "days_past_due": 5}, "outstanding"),
    ({"outstanding": "0", "declared": "defaulted"}, "outstanding"),
    ({"declared": "repaid"}, "declared"),
])
def test_bad_monthly_figures_are_refused(world, changes, field):
    loan = loan_in(world, "repaying")
    with pytest.raises(InvalidInput) as caught:
        report(world, loan, **changes)
    assert caught.value.field == field
    assert not db.session.new


def test_months_are_reported_in_order_once(world):
    loan = loan_in(world, "disbursed")
    report(world, loan, months_after=2)
    db.session.commit()
    for months_after in (1, 2):
        with pytest.raises(InvalidInput) as caught:
            report(world, loan, months_after=months_after)
        assert caught.value.field == "month"
    report(world, loan, months_after=3, days_past_due=12)
    db.session.commit()
    assert [o.month for o in loan.outcomes] == [month_of(add_months(loan.disbursed_on, n)) for n in (2, 3)]
    assert loan.latest_outcome.outcome == "overdue"


def test_an_officer_of_another_institution_cannot_report(world):
    loan = loan_in(world, "repaying")
    with pytest.raises(NotAllowed):
        loans.record_month(db.session, loan, world["users"]["officer_other"], month_of(loan.disbursed_on), 0,
                           Decimal(1000))


def test_a_report_on_a_page_someone_else_changed_is_refused(world):
    loan = loan_in(world, "repaying")
    with pytest.raises(NotAllowed) as caught:
        report(world, loan, seen_version=0)
    assert caught.value.message == "已被他人处理，请刷新后查看。"


def test_the_firm_sees_its_loans_newest_first(world):
    loan = loan_in(world, "repaying")
    report(world, loan)
    db.session.commit()
    assert loans.loans_of_subject(db.session, world["firm"].id) == [loan]
    assert loans.loans_of_subject(db.session, world["other_firm"].id) == []


def test_the_application_of_a_loan_reads_it_back(world):
    loan = loan_in(world, "disbursed")
    db.session.expire_all()
    assert db.session.get(Application, loan.application_id).loan.id == loan.id


def test_an_offer_approved_before_offers_had_terms_is_lent_over_the_term_applied_for(world, accepted):
    accepted.approved_term_months = accepted.approved_repayment = accepted.offer_valid_until = None
    db.session.commit()
    loan = disburse(world, accepted)
    assert (loan.term_months, loan.repayment) == (12, world["product"].repayment)


def test_withdrawing_a_need_tells_its_pending_applications(world):
    need = world["need"]
    others = {}
    for status in ("submitted", "info_requested", "approved", "offer_accepted", "declined"):
        institution = world["bank_b"]
        other = factories.ApplicationFactory(need=need, product=factories.ProductFactory(institution=institution),
                                             subject_id=world["firm"].id, institution_id=institution.id,
                                             consent_id=world["consent"].id, status=status)
        others[status] = other
    db.session.commit()
    closed = applications.withdraw_need(db.session, need)
    db.session.commit()
    db.session.expire_all()
    assert need.status == "withdrawn"
    expected = {"submitted": "withdrawn", "info_requested": "withdrawn", "approved": "offer_declined",
                "offer_accepted": "offer_declined", "declined": "declined"}
    assert {other.status for other in closed} == {"withdrawn", "offer_declined"}
    for status, other in others.items():
        assert other.status == expected[status], status
        if status != "declined":
            assert other.events[-1].note == "企业已撤回该融资需求，本申请随之关闭。"
    with pytest.raises(NotAllowed):
        applications.withdraw_need(db.session, need)
