"""Compliance rules: each fires on a constructed case and not on a clean one; refusals at publication and at
the offer; flags are found once and acknowledged with a note (audited)."""
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.common.errors import InvalidInput, NotAllowed
from app.entities import AuditEntry, ComplianceFlag, DataAccessLog, Product
from app.entities.base import utcnow
from app.extensions import db
from app.matching.tables import ProductTerms
from app.services import applications, compliance, compliance_checks
from app.services.products import publish_product, update_product

from .. import factories
from ..conftest import make_app
from .test_response_clock import application_of

# The issue's case: a microloan product at 24–36 % with a 1 % upfront fee, repaid in equal principal.
COSTLY = ProductTerms(name="惠农快贷", amount_min=Decimal("10000.00"), amount_max=Decimal("500000.00"),
                      term_min=12, term_max=24, rate_min=Decimal("24"), rate_max=Decimal("36"),
                      guarantee_types=("credit",), upfront_fee_pct=Decimal("1"), repayment="equal_principal")


def configure(app, code, **settings):
    """Set one rule's configuration for this test's app."""
    app.config["COMPLIANCE_RULES"] = {**app.config["COMPLIANCE_RULES"], code: settings}


def found(code):
    """(target type, target id) of every flag of rule `code`, after a run."""
    compliance_checks.run(db.session)
    db.session.commit()
    return set(db.session.execute(select(ComplianceFlag.target_type, ComplianceFlag.target_id)
                                  .where(ComplianceFlag.rule == code)).all())


def microloan_admin(world):
    return factories.UserFactory(role="lender_admin", institution=world["bank_b"])


# --- configuration ------------------------------------------------------------------------------
def test_the_issues_offer_costs_38_13_percent():
    assert compliance.offer_apr(36, 12, "equal_principal", 1, 0) == pytest.approx(38.13, abs=0.005)


def test_a_cap_in_lpr_multiples_uses_the_configured_lpr(app):
    configure(app, "apr_cap", mode="refuse", caps={"pawn": {"lpr_multiple": 4}})
    cap = compliance.apr_cap("pawn")
    assert cap.pct == pytest.approx(4 * app.config["ONE_YEAR_LPR_PCT"])
    assert cap.lpr_date == app.config["ONE_YEAR_LPR_DATE"]
    assert "LPR" in cap.basis() and compliance.apr_cap("bank") is None


@pytest.mark.parametrize("rules, words", [
    ({"no_such_rule": {"mode": "flag"}}, "unknown rule"),
    ({"decline_reasons": {"mode": "loud"}}, "mode 'loud'"),
    ({"decline_reasons": {"mode": "refuse"}}, "guard an action"),
])
def test_a_mistyped_configuration_fails_with_a_clear_message(app, rules, words):
    app.config["COMPLIANCE_RULES"] = rules
    with pytest.raises(ValueError, match=words):
        compliance.rules()


def test_the_app_refuses_to_start_with_a_mistyped_cap(database_url):
    rules = {"apr_cap": {"mode": "refuse", "caps": {"pawn": {"ceiling": 24}}}}
    with pytest.raises(ValueError, match="ceiling_pct or lpr_multiple"):
        make_app(database_url, COMPLIANCE_RULES=rules)


def test_every_rule_has_its_search():
    assert set(compliance_checks.SEARCHES) == set(compliance.COMPLIANCE_RULES)


# --- the APR cap: refused at publication and at the offer, or flagged -----------------------------
def test_a_product_above_the_cap_is_refused_at_publication_with_the_rules_message(world):
    with pytest.raises(InvalidInput) as refusal:
        publish_product(db.session, world["bank_b"], microloan_admin(world), COSTLY)
    assert refusal.value.field == "rate_max"
    assert "38.13%" in refusal.value.message and "24%" in refusal.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Product.id)).where(Product.name == "惠农快贷")) == 0


def test_a_product_at_the_cap_is_published_and_not_flagged(world):
    terms = replace(COSTLY, rate_min=Decimal("12"), rate_max=Decimal("22"), upfront_fee_pct=Decimal("0"))
    product = publish_product(db.session, world["bank_b"], microloan_admin(world), terms)
    db.session.commit()
    assert product.status == "published" and found("apr_cap") == set()


def test_an_edit_above_the_cap_is_refused(world):
    admin = microloan_admin(world)
    terms = replace(COSTLY, rate_min=Decimal("12"), rate_max=Decimal("20"))
    product = publish_product(db.session, world["bank_b"], admin, terms)
    db.session.commit()
    with pytest.raises(InvalidInput):
        update_product(db.session, product, admin, COSTLY)


def test_in_flag_mode_the_product_and_the_farmers_offer_are_flagged(app, world):
    configure(app, "apr_cap", mode="flag", caps={"microloan": {"ceiling_pct": 24}})
    product = publish_product(db.session, world["bank_b"], microloan_admin(world), COSTLY)
    db.session.commit()
    farmer = factories.SubjectFactory(kind="farmer", uscc=None, household_id="610203106001020099")
    consent = factories.ConsentFactory(subject_id=farmer.id, institution_id=world["bank_b"].id)
    application = factories.ApplicationFactory(
        need=factories.NeedFactory(subject=farmer), product=product, subject_id=farmer.id,
        institution_id=world["bank_b"].id, consent_id=consent.id, status="in_review")
    officer = world["users"]["officer_other"]
    applications.approve(db.session, application, officer, factories.offer(
        rate=Decimal("36"), repayment="equal_principal", guarantee="credit", amount=Decimal("50000.00")))
    db.session.commit()
    assert application.approved_apr == Decimal("38.128")
    flags = {(f.target_type, f.target_id): f for f in db.session.scalars(select(ComplianceFlag))}
    assert set(flags) == {("Product", product.id), ("Application", application.id)}
    assert flags[("Application", application.id)].details["apr"] == pytest.approx(38.13)
    assert found("apr_cap") == set(flags)  # a run finds nothing new


def test_an_offer_above_the_cap_is_refused_on_its_rate(world):
    product = factories.ProductFactory(institution=world["bank_b"], rate_min=Decimal("20"), rate_max=Decimal("30"))
    consent = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_b"].id)
    application = factories.ApplicationFactory(
        need=factories.NeedFactory(subject=world["firm"]), product=product, subject_id=world["firm"].id,
        institution_id=world["bank_b"].id, consent_id=consent.id, status="in_review")
    with pytest.raises(InvalidInput) as refusal:
        applications.approve(db.session, application, world["users"]["officer_other"],
                             factories.offer(rate=Decimal("30")))
    assert refusal.value.field == "rate"


def test_products_published_before_the_cap_are_found_by_the_run(world):
    costly = factories.ProductFactory(institution=world["bank_b"], rate_min=Decimal("24"), rate_max=Decimal("36"))
    factories.ProductFactory(institution=world["bank_b"], rate_min=Decimal("10"), rate_max=Decimal("18"))
    assert found("apr_cap") == {("Product", costly.id)}


# --- the other rules ------------------------------------------------------------------------------
def test_offers_without_a_disclosed_apr_are_flagged(world):
    legacy = factories.put_in_status(world, "approved")  # approved_rate set, no APR disclosed
    disclosed = application_of(world, status="in_review")
    applications.approve(db.session, disclosed, world["users"]["officer"], factories.offer())
    db.session.commit()
    assert disclosed.approved_apr == Decimal("4.500")
    assert found("apr_disclosure") == {("Application", legacy.id)}


def test_declines_without_specific_reasons_are_flagged(world):
    bare = application_of(world, status="declined", decided=utcnow())
    vague = application_of(world, status="declined", decided=utcnow())
    vague.decision_reasons = ["did_not_meet_internal_standards"]
    reasoned = application_of(world, status="declined", decided=utcnow())
    reasoned.decision_reasons = ["tax_arrears"]
    db.session.commit()
    assert found("decline_reasons") == {("Application", bare.id), ("Application", vague.id)}


def test_overdue_applications_are_flagged_once(app, world):
    late = application_of(world, submitted=utcnow() - timedelta(days=30))
    application_of(world, submitted=utcnow())  # not due yet
    application_of(world, status="info_requested", submitted=utcnow() - timedelta(days=30))  # the firm's turn
    assert found("response_overdue") == {("Application", late.id)}
    assert compliance_checks.run(db.session)["new"]["response_overdue"] == 0


def test_the_overdue_rule_waits_the_configured_working_days(app, world):
    configure(app, "response_overdue", mode="flag", min_working_days_late=100)
    application_of(world, submitted=utcnow() - timedelta(days=30))
    assert found("response_overdue") == set()


def view(world, consent, at, subject=None):
    entry = DataAccessLog(subject_id=(subject or world["firm"]).id, user_id=world["users"]["officer"].id,
                          institution_id=world["bank_a"].id, consent_id=consent.id if consent else None,
                          purpose="underwriting", what="score:1", at=at)
    db.session.add(entry)
    db.session.flush()
    return entry


def test_views_without_a_consent_in_force_at_the_time_are_flagged(world):
    consent = world["consent"]  # valid from a minute ago for 30 days
    clean = view(world, consent, utcnow())
    before = view(world, consent, utcnow() - timedelta(days=1))
    none = view(world, None, utcnow())
    other_firms = view(world, consent, utcnow(), subject=world["other_firm"])
    revoked = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                                       status="revoked", revoked_at=utcnow() - timedelta(hours=1),
                                       valid_from=utcnow() - timedelta(days=2))
    while_valid = view(world, revoked, utcnow() - timedelta(hours=2))
    after_revoking = view(world, revoked, utcnow())
    regulators = DataAccessLog(subject_id=world["firm"].id, user_id=world["users"]["regulator"].id,
                               purpose="supervision", what="score:1", at=utcnow())
    db.session.add(regulators)
    db.session.commit()
    flagged = {target_id for _type, target_id in found("consent_view")}
    assert flagged == {before.id, none.id, other_firms.id, after_revoking.id}
    assert clean.id not in flagged and while_valid.id not in flagged


def test_licence_suspension_refuses_publication_and_flags_products_still_published(app, world):
    product = world["product"]
    world["bank_a"].licence_status = "suspended"
    db.session.commit()
    with pytest.raises(NotAllowed):
        publish_product(db.session, world["bank_a"], world["users"]["lender_admin"],
                        replace(COSTLY, rate_min=Decimal("4"), rate_max=Decimal("6")))
    db.session.rollback()
    assert found("licence_suspended") == {("Product", product.id)}


def test_a_clean_market_raises_no_flag(world):
    world["application"].status = "in_review"
    db.session.commit()
    figures = compliance_checks.run(db.session)
    assert figures["new"] == dict.fromkeys(compliance.COMPLIANCE_RULES, 0)


def test_a_rule_turned_off_finds_nothing(app, world):
    configure(app, "decline_reasons", mode="off")
    application_of(world, status="declined", decided=utcnow())
    assert "decline_reasons" not in compliance_checks.run(db.session)["new"]


# --- acknowledgement --------------------------------------------------------------------------------
def test_a_flag_is_acknowledged_once_with_a_note_and_audited(world):
    application_of(world, status="declined", decided=utcnow())
    found("decline_reasons")
    flag = db.session.scalars(select(ComplianceFlag)).one()
    regulator = world["users"]["regulator"]
    with pytest.raises(InvalidInput):
        compliance.acknowledge(db.session, flag, regulator, "  ")
    compliance.acknowledge(db.session, flag, regulator, "已约谈该行，补录拒绝原因")
    db.session.commit()
    assert flag.acknowledged_by_id == regulator.id and flag.acknowledgement_note == "已约谈该行，补录拒绝原因"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.acknowledge")).one()
    assert entry.target_id == flag.id and entry.details["rule"] == "decline_reasons"
    with pytest.raises(NotAllowed):
        compliance.acknowledge(db.session, flag, regulator, "再次确认")
    assert compliance.flags(db.session, acknowledged=False).total == 0
    assert compliance.flags(db.session, code="decline_reasons", acknowledged=True).total == 1
