"""The regulator's market figures equal direct counts from the database, on a generated market."""
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from flask_babel import force_locale
from sqlalchemy import delete, select

from app.common.dates import add_months, local_date
from app.common.vocab import APPROVED_STATUSES, DECIDED_STATUSES
from app.entities import Application, FinancingNeed, Loan, Match, Product
from app.entities.base import utcnow
from app.extensions import db
from app.matching.rules import section_of
from app.services import market_figures, match_supervision

from .. import factories

APPLICATION_STATUSES = ("submitted", "in_review", "declined", "approved", "offer_declined", "expired", "disbursed",
                        "repaying", "overdue", "repaid", "defaulted")
LOAN_STATUSES = ("disbursed", "repaying", "overdue", "repaid", "defaulted")
KINDS = ("enterprise", "individual_business", "farmer", "cooperative")


def build_market(seed=3, needs=90):
    """Institutions of two kinds, subjects of every kind in two towns and industries, needs over eight months,
    applications in every status, loans with every status, eligible matches for some needs."""
    rng = np.random.default_rng(seed)
    banks = [factories.InstitutionFactory(kind="bank"), factories.InstitutionFactory(kind="microloan"),
             factories.InstitutionFactory(kind="bank")]
    products = [factories.ProductFactory(institution=bank, upfront_fee_pct=Decimal(fee))
                for bank in banks for fee in ("0", "1.5")]
    subjects = [factories.SubjectFactory(kind=KINDS[i % 4], size_class=("micro", "small", None)[i % 3],
                                         town_code=("610203100", "610203101")[i % 2],
                                         industry_code=("3074", "0511", None)[i % 3],
                                         **({"uscc": None, "household_id": f"HH{i:05d}"} if KINDS[i % 4] == "farmer"
                                            else {}))
                for i in range(30)]
    db.session.flush()
    now = utcnow()
    reference = 0
    for n in range(needs):
        subject = subjects[int(rng.integers(len(subjects)))]
        posted = now - timedelta(days=int(rng.integers(0, 240)))
        need = factories.NeedFactory(subject=subject, amount=Decimal(int(rng.integers(5, 200)) * 10_000),
                                     created_at=posted, status=("open", "closed")[n % 2])
        db.session.flush()
        if rng.random() < 0.3:
            db.session.add(Match(need_id=need.id, product_id=products[0].id, eligible=True, rule_results=[]))
        for _ in range(int(rng.integers(0, 3))):
            product = products[int(rng.integers(len(products)))]
            status = APPLICATION_STATUSES[int(rng.integers(len(APPLICATION_STATUSES)))]
            consent = factories.ConsentFactory(subject_id=subject.id, institution_id=product.institution_id)
            approved = status in APPROVED_STATUSES
            application = factories.ApplicationFactory(
                need=need, product=product, subject_id=subject.id, institution_id=product.institution_id,
                consent_id=consent.id, status=status, amount=need.amount, created_at=posted + timedelta(days=1),
                decided_at=posted + timedelta(days=4) if status in DECIDED_STATUSES else None,
                approved_amount=need.amount * Decimal("0.8") if approved else None,
                approved_rate=Decimal(str(round(float(rng.uniform(3.5, 12)), 2))) if approved else None,
                approved_term_months=12 if approved else None, approved_repayment="annuity" if approved else None,
                approved_guarantee=("credit", "guarantor")[int(rng.integers(2))] if approved else None)
            if status in LOAN_STATUSES:
                reference += 1
                disbursed_on = (posted + timedelta(days=10)).date()
                db.session.add(Loan(application=application, subject_id=subject.id,
                                    institution_id=product.institution_id, reference=f"YT-{reference:05d}",
                                    principal=application.approved_amount, annual_rate=application.approved_rate,
                                    term_months=12, repayment="annuity", disbursed_on=disbursed_on,
                                    maturity_on=add_months(disbursed_on, 12), status=status))
    db.session.commit()


@pytest.fixture()
def market(app):
    build_market()
    return market_figures.read_frames(db.session)


def direct():
    """The same figures counted from the ORM rows, one by one."""
    needs = db.session.scalars(select(FinancingNeed)).all()
    apps = db.session.scalars(select(Application)).all()
    loans = db.session.scalars(select(Loan)).all()
    matched = set(db.session.scalars(select(Match.need_id).where(Match.eligible.is_(True))))
    applied = {a.need_id for a in apps}
    approved = {a.need_id for a in apps if a.status in APPROVED_STATUSES}
    loan_need = {loan.id: loan.application.need_id for loan in loans}
    return needs, apps, loans, matched, applied, approved, loan_need


def test_the_funnel_equals_direct_counts(market):
    needs, apps, loans, matched, applied, approved, loan_need = direct()
    counts = {stage: count for stage, _label, count, _wan in market_figures.funnel(market)}
    assert counts == {
        "needs": len(needs), "matched": len(matched | applied), "applied": len(applied), "approved": len(approved),
        "disbursed": len(set(loan_need.values())),
        "repaid": len({loan_need[loan.id] for loan in loans if loan.status == "repaid"}),
        "defaulted": len({loan_need[loan.id] for loan in loans if loan.status == "defaulted"})}
    assert 0 < counts["disbursed"] < counts["approved"] < counts["applied"] < counts["needs"]
    wan = {stage: amount for stage, _label, _count, amount in market_figures.funnel(market)}
    assert wan["needs"] == pytest.approx(sum(float(n.amount) for n in needs) / 10_000, abs=0.01)
    assert wan["disbursed"] == pytest.approx(sum(float(loan.principal) for loan in loans) / 10_000, abs=0.01)
    best = defaultdict(float)
    for a in apps:
        if a.status in APPROVED_STATUSES:
            best[a.need_id] = max(best[a.need_id], float(a.approved_amount))
    assert wan["approved"] == pytest.approx(sum(best.values()) / 10_000, abs=0.01)


def test_the_months_equal_direct_counts(market):
    needs, apps, loans, *_ = direct()
    months = {row["month"]: row for row in market_figures.by_month(market)}
    assert {m: row["needs"] for m, row in months.items() if row["needs"]} == Counter(
        n.created_at.strftime("%Y-%m") for n in needs)
    assert {m: row["approved"] for m, row in months.items() if row["approved"]} == Counter(
        a.decided_at.strftime("%Y-%m") for a in apps if a.status in APPROVED_STATUSES)
    assert {m: row["disbursed"] for m, row in months.items() if row["disbursed"]} == Counter(
        loan.disbursed_on.strftime("%Y-%m") for loan in loans)
    assert len(months) >= 8


@pytest.mark.parametrize("segment", ["subject_kind", "size", "town", "industry"])
def test_a_breakdown_by_the_subject_equals_direct_counts(market, segment):
    needs, apps, _loans, _matched, applied, approved, _loan_need = direct()
    value = {"subject_kind": lambda s: s.kind, "size": lambda s: s.size_class or "",
             "town": lambda s: s.town_code, "industry": lambda s: section_of(s.industry_code) or ""}[segment]
    rows = {row.key: row for row in market_figures.by_segment(market, segment)}
    by_need = {n.id: value(n.subject) for n in needs}
    assert {k: r.counts["needs"] for k, r in rows.items()} == Counter(by_need.values())
    assert {k: r.counts["applied"] for k, r in rows.items() if r.counts["applied"]} == Counter(
        by_need[i] for i in applied)
    assert {k: r.counts["approved"] for k, r in rows.items() if r.counts["approved"]} == Counter(
        by_need[i] for i in approved)
    decided = Counter(by_need[a.need_id] for a in apps if a.status in DECIDED_STATUSES)
    yes = Counter(by_need[a.need_id] for a in apps if a.status in APPROVED_STATUSES)
    for key, row in rows.items():
        assert row.decided == decided[key]
        if decided[key]:
            assert row.approval_rate == pytest.approx(yes[key] / decided[key], abs=1e-4)


@pytest.mark.parametrize("segment", ["institution", "institution_kind", "product"])
def test_a_breakdown_by_the_lender_counts_applications(market, segment):
    _needs, apps, loans, *_ = direct()
    key = {"institution": lambda a: str(a.institution_id), "institution_kind": lambda a: a.institution.kind,
           "product": lambda a: str(a.product_id)}[segment]
    rows = {row.key: row for row in market_figures.by_segment(market, segment)}
    assert "needs" not in next(iter(rows.values())).counts
    assert {k: r.counts["applied"] for k, r in rows.items()} == Counter(key(a) for a in apps)
    assert {k: r.counts["disbursed"] for k, r in rows.items() if r.counts["disbursed"]} == Counter(
        key(loan.application) for loan in loans)


def test_the_four_fifths_rule_flags_a_segment_approved_far_less_often(app):
    bank = factories.InstitutionFactory()
    product = factories.ProductFactory(institution=bank)
    for kind, approved_share in (("enterprise", 0.8), ("farmer", 0.4), ("individual_business", 0.7)):
        for i in range(25):
            subject = factories.SubjectFactory(kind=kind, **({"uscc": None, "household_id": f"F{kind}{i}"}
                                                            if kind == "farmer" else {}))
            need = factories.NeedFactory(subject=subject)
            consent = factories.ConsentFactory(subject_id=subject.id, institution_id=bank.id)
            yes = i < approved_share * 25
            factories.ApplicationFactory(need=need, product=product, subject_id=subject.id, institution_id=bank.id,
                                         consent_id=consent.id, status="approved" if yes else "declined",
                                         decided_at=utcnow(), approved_amount=Decimal(400000) if yes else None,
                                         approved_rate=Decimal("5") if yes else None,
                                         approved_term_months=12 if yes else None)
    db.session.commit()
    rows = {row.key: row for row in market_figures.by_segment(market_figures.read_frames(db.session),
                                                                 "subject_kind")}
    assert rows["farmer"].flagged and rows["farmer"].four_fifths_ratio == pytest.approx(0.4 / 0.8, abs=1e-3)
    assert not rows["enterprise"].flagged and not rows["individual_business"].flagged  # 0.7 / 0.8 ≥ 0.8


def test_first_time_borrowers_and_the_credit_loan_share(market):
    _needs, _apps, loans, *_ = direct()
    totals = market_figures.programme_totals(market)
    assert totals["loans"] == len(loans) and totals["borrowers"] == len({loan.subject_id for loan in loans})
    assert totals["first_time_borrowers"] == totals["borrowers"]
    year_ago = local_date().replace(day=1)
    year_ago = year_ago.replace(year=year_ago.year - 1)
    first = {}
    for loan in sorted(loans, key=lambda x: (x.disbursed_on, x.id)):
        first.setdefault(loan.subject_id, loan.disbursed_on)
    assert totals["first_time_borrowers_12m"] == sum(day >= year_ago for day in first.values())
    credit = [loan for loan in loans if loan.application.approved_guarantee == "credit"]
    assert totals["credit_loans"] == len(credit)
    assert totals["credit_loan_share"] == pytest.approx(len(credit) / len(loans), abs=1e-4)


def test_figures_are_kept_until_the_market_changes(app):
    build_market(needs=10)
    app.config["MATCH_ODDS_REFRESH_SECONDS"] = 3600
    first = market_figures.frames(db.session)
    assert market_figures.frames(db.session) is first
    app.config["MATCH_ODDS_REFRESH_SECONDS"] = 0
    factories.NeedFactory(subject=db.session.scalars(select(FinancingNeed)).first().subject)
    db.session.commit()
    assert len(market_figures.frames(db.session).needs) == len(first.needs) + 1


def test_the_lender_breakdowns_are_labelled_with_the_names(market):
    _needs, apps, *_ = direct()
    institutions = {str(a.institution_id): a.institution.name for a in apps}
    products = {str(a.product_id): f"{a.product.name} · {a.institution.name}" for a in apps}
    assert {r.key: r.label for r in market_figures.by_segment(market, "institution")} == institutions
    assert {r.key: r.label for r in market_figures.by_segment(market, "product")} == products


def test_the_mean_apr_and_approved_amount_of_a_segment(market):
    _needs, apps, *_ = direct()
    rows = {row.key: row for row in market_figures.by_segment(market, "institution")}
    for key, row in rows.items():
        approved = [a for a in apps if str(a.institution_id) == key and a.status in APPROVED_STATUSES]
        if approved:
            mean = sum(float(a.approved_amount) for a in approved) / len(approved) / 10_000
            assert row.mean_approved_wan == pytest.approx(mean, abs=0.01)
            assert row.mean_apr is not None and row.mean_apr >= min(float(a.approved_rate) for a in approved) - 0.01


def test_the_unmet_demand_rules_read_lean_equal_those_of_the_unmatched_needs(app):
    build_market(needs=12)
    products = db.session.scalars(select(Product)).all()
    for n, need in enumerate(db.session.scalars(select(FinancingNeed).where(FinancingNeed.status == "open"))):
        db.session.execute(delete(Match).where(Match.need_id == need.id))
        for k, product in enumerate(products[:3]):
            failed = ["amount", "term", "guarantee"][: 1 + (n + k) % 3]
            db.session.add(Match(need_id=need.id, product_id=product.id, eligible=False, failed_count=len(failed),
                                 rule_results=[{"rule": r, "passed": False} for r in failed]
                                 + [{"rule": "region", "passed": True}]))
    db.session.commit()
    lean = match_supervision.unmatched_rule_totals(db.session)
    assert lean and lean == match_supervision.failed_rule_totals(match_supervision.unmatched_needs(db.session))
    assert dict(lean)["amount"] >= dict(lean)["guarantee"] and "region" not in dict(lean)
    assert market_figures.dashboard(db.session).unmet_rules == lean[:market_figures.UNMET_RULES]


def test_a_changed_market_is_read_again_in_the_background_while_the_kept_figures_are_shown(app):
    build_market(needs=10)
    app.config["DASHBOARD_BACKGROUND_REFRESH"] = True
    first = market_figures.frames(db.session)
    assert first.read_at is not None
    factories.NeedFactory(subject=db.session.scalars(select(FinancingNeed)).first().subject)
    db.session.commit()
    assert market_figures.frames(db.session) is first  # the view does not wait for the market to be read
    assert market_figures.wait_for_refresh(app, timeout=30)
    fresh = market_figures.frames(db.session)
    assert len(fresh.needs) == len(first.needs) + 1 and fresh.read_at >= first.read_at
    assert market_figures.frames(db.session) is fresh  # unchanged since: kept


def test_a_failed_background_reading_keeps_the_figures_and_is_tried_again(app, monkeypatch):
    build_market(needs=10)
    app.config["DASHBOARD_BACKGROUND_REFRESH"] = True
    first = market_figures.frames(db.session)
    factories.NeedFactory(subject=db.session.scalars(select(FinancingNeed)).first().subject)
    db.session.commit()
    read = market_figures.read_frames
    monkeypatch.setattr(market_figures, "read_frames", lambda session: 1 / 0)
    assert market_figures.frames(db.session) is first
    assert market_figures.wait_for_refresh(app, timeout=30)
    assert app.extensions[market_figures.FIGURES_KEY][1] is first and not market_figures.refreshing(app)
    monkeypatch.setattr(market_figures, "read_frames", read)
    assert market_figures.frames(db.session) is first  # the market still differs from the kept figures': again
    assert market_figures.wait_for_refresh(app, timeout=30)
    assert len(market_figures.frames(db.session).needs) == len(first.needs) + 1


def test_a_background_reading_makes_ready_the_boards_read_before_in_their_language(app):
    build_market(needs=10)
    app.config["DASHBOARD_BACKGROUND_REFRESH"] = True
    with app.test_request_context():
        with force_locale("en"):
            english = market_figures.dashboard(db.session, "town")
        market_figures.dashboard(db.session, "subject_kind")
    factories.NeedFactory(subject=db.session.scalars(select(FinancingNeed)).first().subject)
    db.session.commit()
    market_figures.frames(db.session)
    assert market_figures.wait_for_refresh(app, timeout=30)
    fresh = market_figures.frames(db.session)
    assert set(fresh.boards) >= {("en", "town"), ("en", None), ("zh", "subject_kind"), ("zh", None)}
    assert fresh.boards[("en", None)].funnel[0][1] == english.funnel[0][1] == "Financing needs"
    assert fresh.boards[("zh", None)].funnel[0][1] == "融资需求"
    assert fresh.boards[("en", None)].funnel[0][2] == english.funnel[0][2] + 1


def test_a_first_view_waits_for_the_reading_begun_at_the_workers_start(app):
    build_market(needs=10)
    app.config["DASHBOARD_BACKGROUND_REFRESH"] = True
    app.extensions.pop(market_figures.FIGURES_KEY, None)
    market_figures.warm_up(app)
    first = market_figures.frames(db.session)
    assert app.extensions[market_figures.FIGURES_KEY][1] is first and len(first.needs) == 10
    market_figures.warm_up(app)  # something kept: nothing to do
    assert not market_figures.refreshing(app) and market_figures.frames(db.session) is first
