"""The simulated market (`flask market simulate`): played through the services, reproducible,
idempotent, carried on from where it stopped, and every step a legal one."""
import json
from datetime import datetime
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import select

from app.common.errors import InvalidInput
from app.demo import build_demo
from app.entities import (
    Application,
    ApplicationEvent,
    AuditEntry,
    Consent,
    CreditScore,
    FinancingNeed,
    Loan,
    MarketSimulation,
    RepaymentOutcome,
    User,
)
from app.extensions import db
from app.ingest.runner import export_files
from app.services import activation, ingestion, scoring_runs
from app.services.applications import TRANSITIONS
from app.simulation import repayment_path, simulate

from .conftest import _empty_tables

# Beijing midnight of each day, as stored (UTC).
HALF_YEAR = datetime(2026, 3, 31, 16)
NINE_MONTHS = datetime(2026, 6, 30, 16)
ACTIVITY = 10


@pytest.fixture
def market(app, small_district, synthetic_district, model_registry):
    """The small district with the demo's institutions and products, scored by the trained model."""
    root, version = model_registry
    app.config["MODEL_REGISTRY"] = str(root)

    def build():
        _empty_tables()
        ingestion.ingest(db.session, export_files(small_district), "610203")
        build_demo(db.session, "610203")
        platform = db.session.scalars(select(User).where(User.username == "platform")).one()
        run = activation.activate(db.session, root, version, platform, "测试模型", via="test",
                                  override="小样本测试模型")
        db.session.commit()
        scoring_runs.execute(db.session, run, root, "610203")
        db.session.commit()

    build()
    return {"build": build, "truth": synthetic_district / "_truth" / "firms.csv"}


def play(market, until, months=9):
    return simulate(db.session, 7, months, until, market["truth"], activity=ACTIVITY)


def dump():
    """The simulated market's rows by what identifies them (not their ids); the demo's own rows,
    made at the wall clock's time, are left out."""
    db.session.expire_all()
    needs = {n.id: n.form_token for n in db.session.scalars(select(FinancingNeed).where(
        FinancingNeed.form_token.startswith("s7-")))}
    simulated = Application.need_id.in_(list(needs))

    def application_key(application):
        return needs[application.need_id], application.product_id

    applications = sorted((
        (application_key(a), a.status, a.version, a.created_at, a.decided_at, a.due_at, a.escalated_at,
         a.assigned_to_id, a.approved_amount, a.approved_rate, a.decision_reasons, a.offer_valid_until)
        for a in db.session.scalars(select(Application).where(simulated))), key=repr)
    events = sorted(((application_key(e.application), e.from_status, e.to_status, e.actor_id, e.at, e.note)
                     for e in db.session.scalars(select(ApplicationEvent).join(Application).where(simulated))),
                    key=repr)
    loans = sorted(((loan.reference, loan.principal, loan.annual_rate, loan.status, loan.disbursed_on)
                    for loan in db.session.scalars(select(Loan).where(Loan.reference.startswith("S7-")))), key=repr)
    outcomes = sorted(((o.loan.reference, o.month, o.outcome, o.days_past_due, o.amount_outstanding, o.reported_at)
                       for o in db.session.scalars(select(RepaymentOutcome).join(Loan).where(
                           Loan.reference.startswith("S7-")))), key=repr)
    scores = sorted(((s.subject_id, s.computed_at, round(s.pd, 9)) for s in db.session.scalars(select(CreditScore))
                     if s.computed_at < NINE_MONTHS), key=repr)
    return {"needs": sorted(needs.values(), key=str), "applications": applications, "events": events,
            "loans": loans, "outcomes": outcomes, "scores": scores,
            "consents": db.session.query(Consent).filter(Consent.valid_from < NINE_MONTHS).count()}


def test_the_market_plays_every_kind_of_step(market):
    figures = play(market, NINE_MONTHS)
    assert figures["added"]["needs"] >= 40 and figures["added"]["applications"] >= 40
    assert figures["added"]["loans"] >= 10 and figures["repayment_reports"] >= 30
    statuses = {s for s, n in figures["applications"].items() if n}
    assert {"declined", "repaying", "withdrawn"} <= statuses
    assert json.loads(json.dumps(figures)) == figures  # the CLI prints it as it is


def test_a_second_run_to_the_same_moment_adds_nothing(market):
    first = play(market, NINE_MONTHS)
    before = dump()
    second = play(market, NINE_MONTHS)
    assert all(n == 0 for n in second["added"].values())
    assert (second["applications"], second["loans"]) == (first["applications"], first["loans"])
    assert dump() == before


def test_a_run_carried_on_from_where_one_stopped_plays_what_one_run_plays(market):
    play(market, NINE_MONTHS)
    whole = dump()
    market["build"]()
    play(market, HALF_YEAR, months=6)
    record = db.session.scalars(select(MarketSimulation)).one()
    assert record.simulated_until == HALF_YEAR
    play(market, NINE_MONTHS)
    assert dump() == whole


def test_every_step_is_a_legal_transition_and_the_rows_agree(market):
    play(market, NINE_MONTHS)
    applications = db.session.scalars(select(Application).join(FinancingNeed).where(
        FinancingNeed.form_token.startswith("s7-"))).all()
    assert applications
    for application in applications:
        steps = [(e.from_status, e.to_status) for e in sorted(application.events, key=lambda e: (e.at, e.id))]
        assert steps[0] == (None, "submitted")
        for (_from, to_status), (next_from, _next_to) in zip(steps, steps[1:], strict=False):
            assert to_status == next_from
        for from_status, to_status in steps[1:]:
            assert to_status in TRANSITIONS[from_status] or to_status == from_status, (from_status, to_status)
        assert all(e.at <= NINE_MONTHS for e in application.events)
        assert application.status == steps[-1][1] or application.status == steps[-1][0]
        submitted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.submit",
                                                                AuditEntry.target_id == application.id)).one()
        assert submitted.at == application.created_at  # stamped at the step, not when flushed
        consent = db.session.get(Consent, application.consent_id)
        assert consent.institution_id == application.institution_id and consent.valid_from <= application.created_at
        if application.loan is not None:
            assert application.loan.status == application.status
            assert application.need.status == "closed"
    for loan in db.session.scalars(select(Loan).where(Loan.reference.startswith("S7-"))):
        months = [o.month for o in loan.outcomes]
        assert months == sorted(months) and len(set(months)) == len(months)
        assert all(o.reported_at <= NINE_MONTHS for o in loan.outcomes)


def test_bad_settings_are_refused(market):
    for seed, months in ((-1, 6), (10_000, 6), (7, 0), (7, 61)):
        with pytest.raises(InvalidInput):
            simulate(db.session, seed, months, NINE_MONTHS)


def test_the_command_prints_the_counts_as_json_last(market, app):
    result = app.test_cli_runner().invoke(args=["market", "simulate", "--months", "2", "--until", "2026-03-01",
                                                "--activity", str(ACTIVITY), "--truth", str(market["truth"])])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert set(figures) >= {"needs", "applications", "loans", "repayment_reports", "added"}
    assert figures["until"] == "2026-02-28T16:00:00"


def _path(pd_life, seed, term=12, method="annuity"):
    return repayment_path(np.random.default_rng(seed), Decimal(100000), Decimal("6"), term, method, pd_life)


def test_a_sound_loan_is_repaid_at_maturity_with_its_balance_falling():
    path = _path(0.0, 1)
    assert path[-1] == (0, Decimal(0), None) and len(path) <= 13
    balances = [balance for _days, balance, _declared in path]
    assert balances == sorted(balances, reverse=True)
    assert all(declared is None for _days, _balance, declared in path)


def test_a_defaulting_loan_falls_behind_is_declared_past_90_days_then_written_off_or_recovered():
    paths = [_path(1.0, seed) for seed in range(40)]
    declared = [p for p in paths if any(d == "defaulted" for _days, _b, d in p)]
    assert declared
    for path in declared:
        first = next(k for k, (_days, _b, d) in enumerate(path) if d == "defaulted")
        assert path[first][0] > 90 and all(days <= 90 for days, _b, d in path[:first] if d is None)
        assert path[-1][2] == "written_off" or path[-1][1] == 0
    assert any(p[-1][2] == "written_off" for p in declared)


def test_a_bullet_loan_keeps_its_balance_until_maturity():
    path = _path(0.0, 2, term=6, method="bullet")
    assert [b for _d, b, _x in path[:-1]] == [Decimal("100000.0")] * (len(path) - 1)
    assert path[-1][1] == 0
