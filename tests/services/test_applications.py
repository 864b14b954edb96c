"""Applications: applying with consent, and the review state machine with its recorded events."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.common.dates import local_date
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import DECLINE_REASONS, MAX_DECLINE_REASONS
from app.entities import Application, ApplicationEvent, AuditEntry, Consent
from app.entities.base import utcnow
from app.extensions import db
from app.services import applications
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
        application = factories.put_in_status(world, status)
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
        applications.approve(db.session, application, officer, factories.offer(amount=amount, rate=rate))
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
    applications.approve(db.session, application, officer, factories.offer(amount=amount, rate=rate), note="同意")
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
    applications.approve(db.session, application, officer, factories.offer(amount=Decimal("450000"),
                                                                           rate=Decimal("4.2")))
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


# --- the offer ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field"), [
    ({"term_months": 2}, "term_months"),
    ({"term_months": 37}, "term_months"),
    ({"term_months": None}, "term_months"),
    ({"repayment": "balloon"}, "repayment"),
    ({"repayment": None}, "repayment"),
    ({"guarantee": "mortgage"}, "guarantee"),  # the product takes credit and guarantor only
    ({"guarantee": None}, "guarantee"),
    ({"collateral": "房" * 201}, "collateral"),
    ({"valid_until": None}, "valid_until"),
    ({"valid_until": date.today() - timedelta(days=2)}, "valid_until"),
])
def test_approve_refuses_an_offer_outside_the_products_terms(app_in, changes, field):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(InvalidInput) as caught:
        applications.approve(db.session, application, officer, factories.offer(**changes))
    assert caught.value.field == field and CHINESE.search(caught.value.message)
    assert application.status == "in_review" and application.approved_term_months is None
    assert not db.session.new


def test_approve_stores_the_whole_offer(app_in):
    application, officer, _firm = app_in("in_review")
    until = date.today() + timedelta(days=20)
    applications.approve(db.session, application, officer, factories.offer(
        term_months=24, repayment="equal_principal", guarantee="guarantor", valid_until=until,
        collateral="  法定代表人连带责任保证 "))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert (stored.approved_amount, stored.approved_rate, stored.approved_term_months, stored.approved_repayment,
            stored.approved_guarantee, stored.approved_collateral, stored.offer_valid_until) == (
        Decimal("400000.00"), Decimal("4.5"), 24, "equal_principal", "guarantor", "法定代表人连带责任保证", until)
    assert stored.version == 2


def test_an_officer_of_another_institution_cannot_decide(app_in, world):
    application, _officer, _firm = app_in("in_review")
    with pytest.raises(NotAllowed):
        applications.approve(db.session, application, world["users"]["officer_other"], factories.offer())
    with pytest.raises(NotAllowed):
        applications.accept_offer(db.session, application, world["users"]["firm_other"])
    assert application.status == "in_review"


def test_the_firm_accepts_the_offer(app_in):
    application, _officer, firm = app_in("approved")
    applications.accept_offer(db.session, application, firm)
    db.session.commit()
    assert application.status == "offer_accepted"
    assert last_event(application) == ("approved", "offer_accepted", firm.id, None)
    assert audit_actions()[-1] == "application.accept_offer"


@pytest.mark.parametrize("status", ["approved", "offer_accepted"])
def test_the_firm_declines_the_offer_until_the_loan_is_disbursed(app_in, status):
    application, _officer, firm = app_in(status)
    applications.decline_offer(db.session, application, firm, " 利率偏高 ")
    assert application.status == "offer_declined"
    assert last_event(application) == (status, "offer_declined", firm.id, "利率偏高")


def test_an_offer_past_its_last_day_cannot_be_accepted_and_expires(app_in, world):
    application, _officer, firm = app_in("approved")
    application.offer_valid_until = date.today() - timedelta(days=2)
    db.session.commit()
    with pytest.raises(NotAllowed) as caught:
        applications.accept_offer(db.session, application, firm)
    assert "过期" in caught.value.message
    db.session.rollback()
    assert applications.expire_offers(db.session) == 1
    db.session.commit()
    assert application.status == "expired"
    assert last_event(application) == ("approved", "expired", None, None)
    assert applications.expire_offers(db.session) == 0


def test_only_offers_past_their_last_day_expire(app_in, world):
    application, _officer, _firm = app_in("approved")
    application.offer_valid_until = local_date()
    db.session.commit()
    assert applications.expire_offers(db.session) == 0
    assert applications.expire_offers(db.session, now=utcnow() + timedelta(days=2)) == 1
    assert application.status == "expired"


def test_expiry_can_be_limited_to_one_firm_or_one_application(app_in, world):
    application, _officer, _firm = app_in("approved")
    application.offer_valid_until = date.today() - timedelta(days=2)
    db.session.commit()
    assert applications.expire_offers(db.session, subject_id=world["other_firm"].id) == 0
    assert applications.expire_offers(db.session, application_id=application.id + 1) == 0
    assert applications.expire_offers(db.session, subject_id=world["firm"].id) == 1


# --- optimistic locking and submitting once --------------------------------------------------

def test_a_step_on_a_page_someone_else_changed_is_refused_and_writes_nothing(app_in):
    application, officer, _firm = app_in("in_review")
    with pytest.raises(NotAllowed) as caught:
        applications.decline(db.session, application, officer, ["tax_arrears"], seen_version=0)
    assert caught.value.message == "已被他人处理，请刷新后查看。"
    db.session.rollback()
    db.session.expire_all()
    assert (application.status, application.version, application.decision_reasons) == ("in_review", 1, None)
    assert len(application.events) == 1


def test_a_step_on_a_row_changed_since_it_was_read_is_refused(app_in):
    application, officer, _firm = app_in("in_review")
    with db.engine.begin() as another_connection:
        another_connection.execute(update(Application).where(Application.id == application.id)
                                   .values(status="declined", version=Application.version + 1))
    with pytest.raises(NotAllowed) as caught:
        applications.approve(db.session, application, officer, factories.offer(), seen_version=1)
    assert caught.value.message == "已被他人处理，请刷新后查看。"


def test_each_step_raises_the_version(app_in):
    application, officer, firm = app_in("submitted")
    applications.start_review(application, officer, seen_version=1)
    applications.request_info(application, officer, "请补充", seen_version=2)
    applications.answer_info_request(application, firm, "已补充", seen_version=3)
    db.session.commit()
    db.session.expire_all()
    assert (application.status, application.version) == ("in_review", 4)


def test_the_same_apply_form_submitted_twice_makes_one_application(world, product_b):
    firm = world["users"]["firm"]
    first = applications.apply(db.session, world["need"], product_b, firm, True, form_token="a" * 32)
    db.session.commit()
    again = applications.apply(db.session, world["need"], product_b, firm, True, form_token="a" * 32)
    assert again is first and not db.session.new
    assert applications.submitted_with(db.session, firm.subject_id, "a" * 32) is first
    assert applications.submitted_with(db.session, world["users"]["firm_other"].subject_id, "a" * 32) is None
    assert count(Application) == 2
