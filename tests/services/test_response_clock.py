"""The response clock: due times at submission and after an answer, escalation, measured response times."""
import importlib.util
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.common.workdays import due_time, paused_days, postpone
from app.entities import Application, ApplicationEvent, AuditEntry
from app.entities.base import utcnow
from app.extensions import db
from app.services import applications, market, response_clock
from app.services.matches import Catalogue

from .. import factories

CLOSES = time(17, 30)


def beijing(*args):
    """A Beijing wall-clock time as the stored UTC time."""
    return datetime(*args) - timedelta(hours=8)


def application_of(world, institution=None, status="submitted", submitted=None, decided=None, changes=()):
    """An application to `institution` (bank A) submitted at `submitted`, its clock started then,
    with `changes` as (status, at) events after its submission."""
    institution = institution or world["bank_a"]
    product = world["product"] if institution is world["bank_a"] else factories.ProductFactory(institution=institution)
    submitted = submitted or utcnow()
    # A need of its own: a need has one pending application per product.
    application = factories.ApplicationFactory(
        need=factories.NeedFactory(subject=world["firm"]), product=product, subject_id=world["firm"].id,
        institution_id=institution.id, consent_id=world["consent"].id, status=status, created_at=submitted,
        decided_at=decided)
    application.events.append(ApplicationEvent(to_status="submitted", at=submitted))
    for to_status, at in changes:
        application.events.append(ApplicationEvent(to_status=to_status, at=at))
    db.session.flush()
    response_clock.start(application, submitted)
    db.session.commit()
    return application


def test_submitting_sets_the_due_time_from_the_institutions_limit(world):
    world["bank_b"].response_limit_days = 5
    product = factories.ProductFactory(institution=world["bank_b"])
    application = applications.apply(db.session, world["need"], product, world["users"]["firm"], True)
    db.session.commit()
    assert application.due_at == due_time(application.created_at, 5, CLOSES)
    assert application.due_at > application.created_at + timedelta(days=5)


def test_the_due_time_of_a_submission_before_the_spring_festival(world):
    application = application_of(world, submitted=beijing(2026, 2, 13, 10, 0))
    assert application.due_at == beijing(2026, 2, 25, 17, 30)


def test_the_close_of_business_is_a_setting(app, world):
    app.config["RESPONSE_DAY_CLOSES_AT"] = "09:00"
    application = application_of(world, submitted=beijing(2026, 2, 13, 10, 0))
    assert application.due_at == beijing(2026, 2, 26, 9, 0)


def test_an_answer_moves_the_due_time_by_the_working_days_the_firm_took(world):
    # Due Thursday 12 February; asked on Tuesday, answered on Friday: three working days of waiting.
    asked = beijing(2026, 2, 10, 10, 0)
    application = application_of(world, status="info_requested", submitted=beijing(2026, 2, 9, 10, 0),
                                 changes=[("in_review", asked), ("info_requested", asked)])
    assert application.due_at == beijing(2026, 2, 12, 17, 30)
    response_clock.resume(application, beijing(2026, 2, 13, 11, 0))
    assert application.due_at == beijing(2026, 2, 24, 17, 30)  # 13th, the adjusted 14th, then the 24th


def test_answering_through_the_service_moves_the_due_time(world):
    application = world["application"]
    response_clock.start(application, application.created_at)
    applications.start_review(application, world["users"]["officer"])
    applications.request_info(application, world["users"]["officer"], "请补充近三个月流水")
    db.session.commit()
    asked = utcnow() - timedelta(days=9)
    application.events[-1].at = asked
    due = application.due_at
    applications.answer_info_request(application, world["users"]["firm"], "已上传")
    db.session.commit()
    waited = paused_days(asked, utcnow(), CLOSES)
    assert waited >= 5 and application.due_at == postpone(due, waited, CLOSES)
    assert application.status == "in_review"


def test_an_answer_without_a_pending_request_leaves_the_due_time(world):
    application = application_of(world, status="in_review", submitted=beijing(2026, 2, 9, 10, 0))
    response_clock.resume(application, beijing(2026, 2, 13, 11, 0))
    assert application.due_at == beijing(2026, 2, 12, 17, 30)


def test_lateness_counts_only_while_the_lender_has_the_next_move(world):
    application = application_of(world, submitted=beijing(2026, 2, 9, 10, 0))
    assert response_clock.days_late(application, beijing(2026, 2, 12, 17, 0)) == 0
    assert response_clock.days_late(application, beijing(2026, 2, 24, 9, 0)) == 3
    application.status = "info_requested"
    assert response_clock.days_late(application, beijing(2026, 2, 24, 9, 0)) == 0


def escalations():
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == "application.escalate")).all()


def test_escalation_happens_once_per_overdue_application(world):
    late = application_of(world, submitted=utcnow() - timedelta(days=30))
    waiting = application_of(world, status="info_requested", submitted=utcnow() - timedelta(days=30))
    in_time = application_of(world, submitted=utcnow())
    now = utcnow()
    assert [a.id for a in response_clock.escalate_overdue(db.session, now)] == [late.id]
    db.session.commit()
    assert response_clock.escalate_overdue(db.session, now + timedelta(days=1)) == []
    db.session.commit()
    assert late.escalated_at == now and waiting.escalated_at is None and in_time.escalated_at is None
    [entry] = escalations()
    assert entry.target_id == late.id and entry.actor_id is None and int(entry.details["working_days_late"]) >= 10


def test_the_escalate_command_prints_what_it_did_and_is_idempotent(app, world):
    application_of(world, submitted=utcnow() - timedelta(days=30))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["clock", "escalate"])
    second = runner.invoke(args=["clock", "escalate"])
    assert first.exit_code == 0 and first.output.strip().splitlines()[-1] == '{"escalated": 1, "overdue": 1}'
    assert second.output.strip().splitlines()[-1] == '{"escalated": 0, "overdue": 1}'
    assert len(escalations()) == 1


@pytest.fixture
def history(world):
    """Bank A's decisions in March 2026 (limit 3 working days): 0, 1, 3, 4 and, after a 3-day pause, 3
    working days; one application still waiting past its due time; one decision long before."""
    monday = beijing(2026, 3, 2, 10, 0)
    for decided in (beijing(2026, 3, 2, 15, 0), beijing(2026, 3, 3, 10, 0), beijing(2026, 3, 5, 17, 0),
                    beijing(2026, 3, 6, 10, 0)):
        application_of(world, status="approved", submitted=monday, decided=decided)
    paused = application_of(world, status="declined", submitted=monday, decided=beijing(2026, 3, 10, 10, 0), changes=[
        ("in_review", beijing(2026, 3, 3, 10, 0)), ("info_requested", beijing(2026, 3, 3, 10, 0))])
    response_clock.resume(paused, beijing(2026, 3, 6, 10, 0))
    paused.events.append(ApplicationEvent(to_status="in_review", at=beijing(2026, 3, 6, 10, 0)))
    application_of(world, status="in_review", submitted=monday)
    application_of(world, status="approved", submitted=beijing(2025, 11, 3, 10, 0), decided=beijing(2025, 11, 4, 10, 0))
    application_of(world, institution=world["bank_b"], submitted=beijing(2026, 3, 30, 10, 0))
    db.session.commit()
    return beijing(2026, 3, 31, 12, 0)


def test_response_times_on_a_constructed_history(world, history):
    times = response_clock.response_times(db.session, now=history)
    figures = times[world["bank_a"].id]
    assert (figures.decided, figures.median, figures.p90) == (5, 3.0, 4)
    assert (figures.on_time, figures.open_late) == (4, 1) and figures.on_time_share == pytest.approx(4 / 6)
    assert world["bank_b"].id not in times  # nothing decided, nothing late


def test_the_window_is_a_setting(app, world, history):
    app.config["RESPONSE_TIME_WINDOW_DAYS"] = 7
    figures = response_clock.response_times(db.session, now=history)[world["bank_a"].id]
    assert (figures.decided, figures.median, figures.open_late) == (0, None, 1) and figures.on_time_share == 0


def test_the_matching_reads_the_same_median(world, history, monkeypatch):
    monkeypatch.setattr(response_clock, "utcnow", lambda: history)
    catalogue = Catalogue(db.session)
    days = market.market_for(db.session, catalogue.table).response_days
    assert days[catalogue.ids.index(world["product"].id)] == 3.0


def test_the_regulators_report_lists_the_overdue_longest_first(world, history):
    report = response_clock.overdue_report(db.session, history)
    assert report.total == 1 and [days for _a, days in report.rows] == [18]
    [(institution, figures)] = [row for row in report.institutions if row[0].id == world["bank_a"].id]
    assert figures.open_late == 1 and figures.decided == 5
    assert response_clock.overdue_count(db.session, history) == 1
    assert db.session.scalar(select(Application.escalated_at).where(Application.status == "in_review")) is None


def migration(name):
    """A migration module of app/migrations/versions by its file name."""
    path = Path(__file__).resolve().parents[2] / "app" / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_back_fills_the_due_times_the_clock_gives(world):
    asked = beijing(2026, 2, 10, 10, 0)
    answered = application_of(world, status="in_review", submitted=beijing(2026, 2, 9, 10, 0),
                              changes=[("in_review", asked), ("info_requested", asked)])
    response_clock.resume(answered, beijing(2026, 2, 13, 11, 0))
    answered.events.append(ApplicationEvent(to_status="in_review", at=beijing(2026, 2, 13, 11, 0)))
    waiting = application_of(world, status="info_requested", submitted=beijing(2026, 2, 9, 10, 0),
                             changes=[("in_review", asked), ("info_requested", asked)])
    db.session.commit()
    expected = {a.id: a.due_at for a in (answered, waiting)}
    expected[world["application"].id] = due_time(world["application"].created_at, 3, CLOSES)
    db.session.execute(update(Application).values(due_at=None))
    migration("9de2e2c36e2b_response_clock.py").back_fill_due_times(db.session.connection(), CLOSES)
    db.session.commit()
    assert dict(db.session.execute(select(Application.id, Application.due_at)).all()) == expected
    assert expected[answered.id] == beijing(2026, 2, 24, 17, 30)
    assert expected[waiting.id] == beijing(2026, 2, 12, 17, 30)
