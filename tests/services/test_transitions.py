"""The application's one transition table: every legal move is one event and one version, every
illegal one is refused in the user's language with nothing written; each service that moves an
application moves it only from the statuses the table allows."""
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.common.dates import local_date
from app.common.errors import NotAllowed
from app.common.vocab import APPLICATION_STATUSES
from app.entities import ApplicationEvent, Loan
from app.extensions import db
from app.services import applications, loans
from app.services.applications import TRANSITIONS

from .. import factories

LEGAL = sorted((from_status, to_status) for from_status, targets in TRANSITIONS.items() for to_status in targets)
TERMINAL = [status for status in APPLICATION_STATUSES if status not in TRANSITIONS]


def stored(application):
    db.session.expire_all()
    return application.status, application.version, [(e.from_status, e.to_status) for e in application.events]


def test_the_table_names_only_known_statuses_and_every_status_is_reachable():
    named = set(TRANSITIONS) | {to for targets in TRANSITIONS.values() for to in targets}
    assert named <= set(APPLICATION_STATUSES)
    reachable = {to for targets in TRANSITIONS.values() for to in targets} | {"submitted"}
    assert reachable == set(APPLICATION_STATUSES)
    assert set(TERMINAL) == {"declined", "withdrawn", "offer_declined", "expired", "repaid", "written_off"}


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL)
def test_a_legal_transition_is_one_event_with_actor_time_and_note(world, from_status, to_status):
    application = factories.put_in_status(world, from_status)
    officer = world["users"]["officer"]
    applications.advance(application, to_status, officer, "说明")
    db.session.commit()
    status, version, events = stored(application)
    assert (status, version) == (to_status, 2)
    assert events == [(None, "submitted"), (from_status, to_status)]
    event = application.events[-1]
    assert (event.actor_id, event.note) == (officer.id, "说明") and event.at is not None


@pytest.mark.parametrize("from_status", list(APPLICATION_STATUSES))
def test_every_illegal_transition_is_refused_and_writes_nothing(app, world, from_status):
    application = factories.put_in_status(world, from_status)
    label = APPLICATION_STATUSES.label(from_status)
    for to_status in APPLICATION_STATUSES:
        if to_status in TRANSITIONS.get(from_status, ()):
            continue
        with pytest.raises(NotAllowed) as caught:
            applications.advance(application, to_status, world["users"]["officer"])
        assert caught.value.message == f"当前状态“{label}”下不能执行该操作。", to_status
    db.session.commit()
    assert stored(application) == (from_status, 1, [(None, "submitted")])
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(NotAllowed) as caught:
            applications.advance(application, "submitted", None)
        english = APPLICATION_STATUSES.label(from_status)
    assert caught.value.message == f'This action is not allowed in the current status "{english}".'



# Each service that moves an application: the status it moves to, the statuses it moves from when
# they differ from the table's, and the call.
MOVES = {
    "start_review": ("in_review", None, lambda a, w: applications.start_review(a, w["users"]["officer"])),
    "request_info": ("info_requested", None,
                     lambda a, w: applications.request_info(a, w["users"]["officer"], "请补充材料")),
    "approve": ("approved", None, lambda a, w: applications.approve(
        db.session, a, w["users"]["officer"], factories.offer())),
    "decline": ("declined", None, lambda a, w: applications.decline(
        db.session, a, w["users"]["officer"], ["tax_arrears"])),
    "withdraw": ("withdrawn", None, lambda a, w: applications.withdraw(a, w["users"]["firm"])),
    # The firm's answer returns only an information request to review, not a submitted application.
    "answer": ("in_review", {"info_requested"},
               lambda a, w: applications.answer_info_request(a, w["users"]["firm"], "已补充")),
    "accept_offer": ("offer_accepted", None, lambda a, w: applications.accept_offer(
        db.session, a, w["users"]["firm"])),
    "decline_offer": ("offer_declined", None, lambda a, w: applications.decline_offer(
        db.session, a, w["users"]["firm"])),
    "disburse": ("disbursed", None, lambda a, w: loans.disburse(
        db.session, a, w["users"]["officer"], Decimal("400000"), local_date(), "YT-NEW-0001")),
}


def _from_statuses(move):
    to_status, only_from, _call = MOVES[move]
    return only_from or {status for status, targets in TRANSITIONS.items() if to_status in targets}


CASES = [(status, move) for move in MOVES for status in APPLICATION_STATUSES]


@pytest.mark.parametrize(("status", "move"), CASES)
def test_each_service_moves_only_from_the_statuses_the_table_allows(world, status, move):
    application = factories.put_in_status(world, status)
    to_status, _only_from, call = MOVES[move]
    loans_before = db.session.scalar(select(func.count(Loan.id)))
    if status in _from_statuses(move):
        call(application, world)
        db.session.commit()
        assert stored(application)[:2] == (to_status, 2)
        assert application.events[-1].from_status == status and application.events[-1].to_status == to_status
        return
    with pytest.raises(NotAllowed):
        call(application, world)
    db.session.rollback()
    assert stored(application) == (status, 1, [(None, "submitted")])
    assert db.session.scalar(select(func.count(Loan.id))) == loans_before
    assert db.session.scalar(select(func.count(ApplicationEvent.id))) == 1
