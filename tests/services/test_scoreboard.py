"""The lender scoreboard: its figures equal direct counts on a small constructed market."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from app.entities import Application
from app.extensions import db
from app.services import scoreboard

from .. import factories
from .test_response_clock import application_of

MONDAY = datetime(2026, 11, 16, 1, 0)  # 09:00 in Beijing, an ordinary working Monday
NOW = datetime(2026, 11, 30, 4, 0)


def decided(world, status, days, institution=None, reasons=None, rate=None, apr=None):
    """An application received on MONDAY and decided `days` days later (3 working days promised)."""
    application = application_of(world, institution=institution, status=status, submitted=MONDAY,
                                 decided=MONDAY + timedelta(days=days))
    application.decision_reasons = reasons
    if rate is not None:
        application.approved_rate, application.approved_term_months = Decimal(rate), 12
        application.approved_repayment = "annuity"
        application.approved_apr = None if apr is None else Decimal(apr)
    db.session.commit()
    return application


@pytest.fixture
def market(world):
    """Bank A: two approvals (one late), two declines, one application overdue now; bank B: one decline."""
    world["application"].status = "withdrawn"
    decided(world, "approved", 2, rate="6.0")                  # 2 working days, on time, APR computed: 6 %
    decided(world, "disbursed", 7, rate="4.5", apr="4.5")      # 5 working days, late, APR as disclosed
    decided(world, "declined", 1, reasons=["tax_arrears", "debt_too_high"])
    decided(world, "declined", 2, reasons=["tax_arrears"])
    application_of(world, submitted=MONDAY)                    # still undecided: overdue
    decided(world, "declined", 2, institution=world["bank_b"], reasons=["revenue_insufficient"])
    return world


def card_of(cards, institution):
    return next(c for c in cards if c.institution.id == institution.id)


def test_the_scoreboard_equals_direct_counts(market):
    cards = scoreboard.scoreboard(db.session, now=NOW)
    bank_a = card_of(cards, market["bank_a"])
    applications = db.session.scalars(db.select(Application).where(
        Application.institution_id == market["bank_a"].id)).all()
    decisions = [a for a in applications if a.decided_at is not None]
    assert bank_a.decided == len(decisions) == 4
    assert bank_a.approved == sum(a.status in ("approved", "disbursed") for a in decisions) == 2
    assert bank_a.approval_rate == pytest.approx(0.5)
    assert (bank_a.times.median, bank_a.times.p90) == (2, 5)
    assert bank_a.times.on_time == 3 and bank_a.overdue == 1
    assert bank_a.times.on_time_share == pytest.approx(3 / 5)
    assert (bank_a.offers, bank_a.apr_min, bank_a.apr_max) == (2, pytest.approx(4.5), pytest.approx(6.0))
    assert bank_a.reasons == [("tax_arrears", 2), ("debt_too_high", 1)]
    assert bank_a.reason_shares() == [("tax_arrears", 1.0), ("debt_too_high", 0.5)]
    bank_b = card_of(cards, market["bank_b"])
    assert (bank_b.decided, bank_b.approved, bank_b.approval_rate, bank_b.overdue) == (1, 0, 0.0, 0)
    assert bank_b.offers == 0 and bank_b.apr_min is None


def test_fees_count_in_the_apr_charged(world):
    world["product"].upfront_fee_pct = Decimal("1")
    world["product"].repayment = "equal_principal"
    world["product"].rate_max = Decimal("36")
    application = decided(world, "approved", 2, rate="36")
    application.approved_repayment = "equal_principal"
    db.session.commit()
    card = card_of(scoreboard.scoreboard(db.session, now=NOW), world["bank_a"])
    assert card.apr_max == pytest.approx(38.13, abs=0.005)


def test_the_public_summary_matches_the_scoreboard(market):
    summary = scoreboard.public_summaries(db.session, now=NOW)[market["bank_a"].id]
    assert (summary.median_days, summary.approval_rate, summary.decided) == (2, 0.5, 4)
    assert summary.on_time_share == pytest.approx(0.6)


def test_the_csv_has_a_row_per_institution_and_neutralises_formulas(market):
    market["bank_b"].name = "=HYPERLINK(\"http://x\")"
    db.session.commit()
    text = scoreboard.to_csv(scoreboard.scoreboard(db.session, now=NOW))
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 3 and "批准率" in lines[0]
    assert any(line.startswith("\"'=HYPERLINK") for line in lines)
    row_a = next(line for line in lines if line.startswith(market["bank_a"].name))
    assert ",50.0," in row_a and "4.50,6.00" in row_a and "存在欠税或纳税信用等级较低 2" in row_a


def test_an_institution_with_no_decisions_has_empty_figures(app):
    factories.InstitutionFactory(name="新设银行")
    db.session.commit()
    card = scoreboard.scoreboard(db.session, now=NOW)[0]
    assert card.approval_rate is None and card.times is None and card.overdue == 0 and card.reason_shares() == []
