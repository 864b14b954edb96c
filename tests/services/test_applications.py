"""Applications: applying with consent, and the review state machine with its recorded events."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import APPLICATION_STATUSES, DECLINE_REASONS, MAX_DECLINE_REASONS
from app.entities import Application, ApplicationEvent, AuditEntry, Consent
from app.entities.base import utcnow
from app.extensions import db
from app.services import applications
from app.services.applications import TRANSITIONS
from app.services.consents import consent_in_force

from .. import factories

CHINESE = re.compile(r"[\u4e00-\u9fff]")
REASONS = sorted(DECLINE_REASONS)


def count(entity):
    return db.session.scalar(select(func.count(entity.id)))


def audit_actions():
    return [entry.action for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# --- apply -----------------------------------------------------------------------------------

@pytest.fixture
def product_b(world):
    """A published product of bank B that fits the world's need (which has no application to it)."""
    product = factories.ProductFactory(institution=world["bank_b"], name="乙小贷经营贷")
    db.session.commit()
    return product


def test_apply_creates_a_submitted_application_with_a_fresh_underwriting_consent(world, product_b):
    firm_user, need = world["users"]["firm"], world["need"]
    before = utcnow()
    application = applications.apply(db.session, need, product_b, firm_user, consent_given=True)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Application, application.id)
    assert stored.status == "submitted"
    assert stored.need_id == need.id and stored.product_id == product_b.id
    assert stored.subject_id == world["firm"].id
    assert stored.institution_id == world["bank_b"].id
    assert stored.amount == Decimal("500000.00") and stored.term_months == 12
    assert [(ev.from_status, ev.to_status, ev.actor_id) for ev in stored.events] == [
        (None, "submitted", firm_user.id)]

    consent = db.session.get(Consent, stored.consent_id)
    assert consent.purpose_code == "underwriting"
    assert consent.institution_id == world["bank_b"].id
    assert consent.subject_id == world["firm"].id
    assert consent.status == "active"
    assert consent.granted_by_id == firm_user.id
    assert "乙小贷经营贷" in consent.purpose_text
    assert "tax" in consent.data_categories
    assert before - timedelta(seconds=5) <= consent.valid_from <= utcnow()
    assert consent.valid_to - consent.valid_from == timedelta(days=30)
    assert consent_in_force(db.session, world["firm"].id, world["bank_b"].id) == consent
    assert audit_actions() == ["consent.grant", "application.submit"]


def test_apply_consent_length_follows_the_configuration(app, world, product_b):
    app.config["UNDERWRITING_CONSENT_DAYS"] = 7
    application = applications.apply(db.session, world["need"], product_b, world["users"]["firm"], True)
    consent = db.session.get(Consent, application.consent_id)
    assert consent.valid_to - consent.valid_from == timedelta(days=7)


def test_apply_without_consent_is_refused_and_stages_nothing(world, product_b):
    with pytest.raises(InvalidInput) as caught:
        applications.apply(db.session, world["need"], product_b, world["users"]["firm"], consent_given=False)
    assert caught.value.field == "consent"
    assert CHINESE.search(caught.value.message)
    assert not db.session.new
    db.session.rollback()
    assert count(Application) == 1 and count(Consent) == 1  # only the world's own


def test_apply_with_another_subjects_need_is_not_allowed(world, product_b):
    with pytest.raises(NotAllowed):
        applications.apply(db.session, world["need"], product_b, world["users"]["firm_other"], True)
    assert not db.session.new


def test_apply_for_a_product_that_does_not_fit_is_refused_with_the_reasons(world):
    big = factories.ProductFactory(institution=world["bank_b"], amount_min=Decimal("1000000"),
                                   guarantee_types=["mortgage"])
    db.session.commit()
    with pytest.raises(InvalidInput) as caught:
        applications.apply(db.session, world["need"], big, world["users"]["firm"], True)
    assert "万元" in caught.value.message and "信用" in caught.value.message
    assert not db.session.new


def test_apply_twice_while_the_first_is_open_is_not_allowed(world):
    with pytest.raises(NotAllowed):
        applications.apply(db.session, world["need"], world["product"], world["users"]["firm"], True)
    assert not db.session.new
    db.session.rollback()
    assert count(Application) == 1


def test_apply_again_after_withdrawing_is_allowed(world):
    applications.withdraw(world["application"], world["users"]["firm"])
    db.session.commit()
    again = applications.apply(db.session, world["need"], world["product"], world["users"]["firm"], True)
    db.session.commit()
    assert again.id != world["application"].id and again.status == "submitted"


def test_apply_with_a_closed_need_or_a_retired_product_is_not_allowed(world, product_b):
    retired = factories.ProductFactory(institution=world["bank_b"], status="retired")
    db.session.commit()
    with pytest.raises(NotAllowed):
        applications.apply(db.session, world["need"], retired, world["users"]["firm"], True)
    world["need"].status = "closed"
    with pytest.raises(NotAllowed):
        applications.apply(db.session, world["need"], product_b, world["users"]["firm"], True)


# --- the state machine -----------------------------------------------------------------------

@pytest.fixture
def app_in(world):
    """Put the world's application into a status and return (application, officer, firm user)."""
    def put(status):
        application = world["application"]
        application.status = status
        db.session.commit()
        return application, world["users"]["officer"], world["users"]["firm"]
    return put


def last_event(application):
    event = application.events[-1]
    return event.from_status, event.to_status, event.actor_id, event.note


def test_start_review(app_in):
    application, officer, _firm = app_in("submitted")
    applications.start_review(application, officer)
    assert application.status == "in_review"
    assert last_event(application) == ("submitted", "in_review", officer.id, None)


@pytest.mark.parametrize("note", [None, "", "   ", "补" * 501])
def test_request_info_needs_a_note(app_in, note):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(InvalidInput) as caught:
        applications.request_info(application, officer, note)
    assert caught.value.field == "note"
    assert application.status == "in_review" and len(application.events) == 1


def test_request_info_then_answer_returns_to_review(app_in):
    application, officer, firm = app_in("in_review")
    applications.request_info(application, officer, "  请补充近一年纳税证明 ")
    assert application.status == "info_requested"
    assert last_event(application) == ("in_review", "info_requested", officer.id, "请补充近一年纳税证明")
    with pytest.raises(InvalidInput) as caught:
        applications.answer_info_request(application, firm, "  ")
    assert caught.value.field == "note"
    applications.answer_info_request(application, firm, "已上传纳税证明")
    assert application.status == "in_review"
    assert last_event(application) == ("info_requested", "in_review", firm.id, "已上传纳税证明")


@pytest.mark.parametrize(("amount", "rate", "field"), [
    (Decimal("0"), Decimal("4.5"), "amount"),
    (Decimal("-100"), Decimal("4.5"), "amount"),
    (Decimal("500000.01"), Decimal("4.5"), "amount"),
    (None, Decimal("4.5"), "amount"),
    (Decimal("400000"), Decimal("3.849"), "rate"),
    (Decimal("400000"), Decimal("6.001"), "rate"),
    (Decimal("400000"), None, "rate"),
])
def test_approve_refuses_an_amount_or_rate_outside_the_ranges(app_in, amount, rate, field):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(InvalidInput) as caught:
        applications.approve(db.session, application, officer, amount, rate)
    assert caught.value.field == field
    assert CHINESE.search(caught.value.message)
    assert application.status == "in_review"
    assert application.decided_at is None and application.approved_amount is None
    assert len(application.events) == 1
    assert not db.session.new


@pytest.mark.parametrize(("amount", "rate"), [
    (Decimal("400000.00"), Decimal("4.5")),
    (Decimal("500000.00"), Decimal("3.85")),
    (Decimal("0.01"), Decimal("6")),
])
def test_approve_records_the_decision(app_in, amount, rate):
    application, officer, _firm = app_in("in_review")
    applications.approve(db.session, application, officer, amount, rate, note="同意")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.status == "approved"
    assert stored.approved_amount == amount
    assert stored.approved_rate == rate
    assert stored.decided_by_id == officer.id
    assert stored.decided_at is not None
    assert stored.decision_note == "同意"
    assert last_event(stored) == ("in_review", "approved", officer.id, "同意")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "application.approve"
    assert (entry.target_type, entry.target_id, entry.actor_id) == ("Application", stored.id, officer.id)


@pytest.mark.parametrize("codes", [
    [], None, REASONS[:MAX_DECLINE_REASONS + 1], ["did_not_meet_standards"], ["tax_arrears", "bogus"],
])
def test_decline_needs_one_to_four_known_reasons(app_in, codes):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(InvalidInput) as caught:
        applications.decline(db.session, application, officer, codes)
    assert caught.value.field == "reasons"
    assert CHINESE.search(caught.value.message)
    assert application.status == "in_review" and application.decision_reasons is None
    assert not db.session.new


def test_decline_refuses_a_note_over_500_characters(app_in):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(InvalidInput) as caught:
        applications.decline(db.session, application, officer, ["tax_arrears"], note="说" * 501)
    assert caught.value.field == "note"
    assert application.status == "in_review"


@pytest.mark.parametrize("codes", [REASONS[:1], REASONS[:MAX_DECLINE_REASONS]])
def test_decline_stores_the_reasons(app_in, codes):
    application, officer, _firm = app_in("in_review")
    applications.decline(db.session, application, officer, codes, note="近期欠税")
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.status == "declined"
    assert stored.decision_reasons == codes
    assert stored.decided_by_id == officer.id and stored.decided_at is not None
    assert stored.decision_note == "近期欠税"
    assert last_event(stored) == ("in_review", "declined", officer.id, "近期欠税")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "application.decline"
    assert entry.details == {"reasons": ",".join(codes)}


def test_decline_counts_a_repeated_reason_once(app_in):
    application, officer, _firm = app_in("in_review")
    applications.decline(db.session, application, officer, ["tax_arrears", "tax_arrears", "debt_too_high"])
    assert application.decision_reasons == ["tax_arrears", "debt_too_high"]


@pytest.mark.parametrize("status", ["submitted", "in_review", "info_requested"])
def test_withdraw_before_a_decision(app_in, status):
    application, _officer, firm = app_in(status)
    applications.withdraw(application, firm)
    assert application.status == "withdrawn"
    assert last_event(application) == (status, "withdrawn", firm.id, None)


@pytest.mark.parametrize("status", ["approved", "declined", "disbursed", "repaid", "withdrawn"])
def test_withdraw_after_a_decision_is_not_allowed(app_in, status):
    application, _officer, firm = app_in(status)
    with pytest.raises(NotAllowed) as caught:
        applications.withdraw(application, firm)
    assert CHINESE.search(caught.value.message)
    assert application.status == status and len(application.events) == 1


# Each service that moves an application, and the status it moves to.
MOVES = {
    "start_review": ("in_review", lambda a, officer, firm: applications.start_review(a, officer)),
    "request_info": ("info_requested",
                     lambda a, officer, firm: applications.request_info(a, officer, "请补充材料")),
    "approve": ("approved", lambda a, officer, firm: applications.approve(
        db.session, a, officer, Decimal("400000"), Decimal("4.5"))),
    "decline": ("declined", lambda a, officer, firm: applications.decline(
        db.session, a, officer, ["tax_arrears"])),
    "withdraw": ("withdrawn", lambda a, officer, firm: applications.withdraw(a, firm)),
}
FORBIDDEN = [(status, move) for status in APPLICATION_STATUSES for move, (to_status, _call) in MOVES.items()
             if to_status not in TRANSITIONS.get(status, set())]
ALLOWED = [(status, move) for status in APPLICATION_STATUSES for move, (to_status, _call) in MOVES.items()
           if to_status in TRANSITIONS.get(status, set())]


@pytest.mark.parametrize(("status", "move"), FORBIDDEN)
def test_a_move_not_in_the_transitions_is_not_allowed(app_in, status, move):
    application, officer, firm = app_in(status)
    with pytest.raises(NotAllowed):
        MOVES[move][1](application, officer, firm)
    assert application.status == status
    assert len(application.events) == 1
    assert application.decided_at is None
    assert not db.session.new


@pytest.mark.parametrize(("status", "move"), ALLOWED)
def test_a_move_in_the_transitions_appends_one_event(app_in, status, move):
    application, officer, firm = app_in(status)
    MOVES[move][1](application, officer, firm)
    to_status = MOVES[move][0]
    assert application.status == to_status
    assert len(application.events) == 2
    assert application.events[-1].from_status == status
    assert application.events[-1].to_status == to_status


def test_answer_from_a_decided_application_is_not_allowed(app_in):
    application, _officer, firm = app_in("approved")
    with pytest.raises(NotAllowed):
        applications.answer_info_request(application, firm, "补充说明")
    assert application.status == "approved"


def test_every_move_is_recorded_in_order(world):
    application = world["application"]
    officer, firm = world["users"]["officer"], world["users"]["firm"]
    applications.start_review(application, officer)
    applications.request_info(application, officer, "请补充纳税证明")
    applications.answer_info_request(application, firm, "已补充")
    applications.approve(db.session, application, officer, Decimal("450000"), Decimal("4.2"))
    db.session.commit()
    db.session.expire_all()
    events = db.session.scalars(select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
                                .order_by(ApplicationEvent.id)).all()
    assert [(e.from_status, e.to_status, e.actor_id) for e in events] == [
        (None, "submitted", firm.id),
        ("submitted", "in_review", officer.id),
        ("in_review", "info_requested", officer.id),
        ("info_requested", "in_review", firm.id),
        ("in_review", "approved", officer.id),
    ]
    assert all(e.at is not None for e in events)
    assert db.session.get(Application, application.id).status == "approved"
