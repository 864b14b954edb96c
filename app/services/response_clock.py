"""The response clock (docs/response-clock.md): when each application's decision is due, which ones
are overdue, their escalation to the institution's admin, and the institutions' measured response times.

The rules on days live in app/common/workdays.py; this module applies them to applications.
"""
import math
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.common import workdays
from app.common.vocab import AWAITING_FIRM_STATUSES, OPEN_APPLICATION_STATUSES
from app.entities import Application, ApplicationEvent, Institution
from app.entities.base import utcnow

from . import audit

# Open applications whose clock runs: the lender has the next move.
RUNNING_STATUSES = tuple(s for s in OPEN_APPLICATION_STATUSES if s not in AWAITING_FIRM_STATUSES)
# The most overdue applications the regulator's list shows at once.
OVERDUE_PAGE_SIZE = 100


def closes_at():
    """Close of business in Beijing time (RESPONSE_DAY_CLOSES_AT)."""
    return workdays.parse_closing_time(current_app.config["RESPONSE_DAY_CLOSES_AT"])


def start(application, submitted_at):
    """Set the due time of an application just submitted, from its institution's response limit."""
    application.due_at = workdays.due_time(submitted_at, application.institution.response_limit_days, closes_at())


def resume(application, answered_at):
    """The firm has answered an information request: the due time moves by the working days it waited."""
    changes = [(event.to_status, event.at) for event in application.events if event.at is not None]
    running = [stopped for stopped, resumed in workdays.pauses(changes) if resumed is None]
    if application.due_at is None or not running:
        return
    days = workdays.paused_days(running[-1], answered_at, closes_at())
    application.due_at = workdays.postpone(application.due_at, days, closes_at())


def is_running(application):
    """Whether the application's clock runs (it is open and the lender has the next move)."""
    return application.status in RUNNING_STATUSES


def days_late(application, now):
    """Working days past its due time (0 when not late, or when its clock stands still)."""
    if application.due_at is None or not is_running(application):
        return 0
    return workdays.working_days_late(application.due_at, now)


def overdue_conditions(now):
    """SQL conditions of an application overdue at `now`: its clock runs and its due time has passed."""
    return (Application.status.in_(RUNNING_STATUSES), Application.due_at < now)


def overdue_count(session, now):
    """How many applications of every institution are overdue."""
    return session.scalar(select(func.count(Application.id)).where(*overdue_conditions(now)))


@dataclass
class OverdueReport:
    """The regulator's 超时未处理申请: one page of overdue applications with their working days late,
    how many there are in all, and every institution with its limit, response times and overdue count."""

    rows: list
    total: int
    page: int
    page_size: int
    institutions: list


def overdue_report(session, now, page=1, page_size=OVERDUE_PAGE_SIZE):
    """Overdue applications of every institution, the longest overdue first, and each institution's figures."""
    page = max(page, 1)
    applications = session.scalars(
        select(Application).where(*overdue_conditions(now))
        .options(joinedload(Application.institution), joinedload(Application.product),
                 joinedload(Application.subject), joinedload(Application.assigned_to))
        .order_by(Application.due_at, Application.id).limit(page_size).offset((page - 1) * page_size)).all()
    return OverdueReport(rows=[(a, workdays.working_days_late(a.due_at, now)) for a in applications],
                         total=overdue_count(session, now),
                         page=page, page_size=page_size, institutions=institutions_response(session, now))


def escalate_overdue(session, now):
    """Escalate every overdue application not escalated yet to its institution's admin (once, audited).

    Returns the applications escalated by this call; a second call at the same time escalates none.
    """
    due = session.scalars(select(Application).where(*overdue_conditions(now), Application.escalated_at.is_(None))
                          .order_by(Application.id)).all()
    for application in due:
        application.escalated_at = now
        audit.record(session, None, "application.escalate", application,
                     due_at=application.due_at.isoformat(timespec="minutes"),
                     working_days_late=workdays.working_days_late(application.due_at, now))
    session.flush()
    return due


@dataclass(frozen=True)
class ResponseTimes:
    """An institution's measured response: working days from receipt to decision over the window."""

    decided: int
    median: float | None
    p90: int | None
    on_time: int
    # Applications still undecided past their due time: late, whatever happens next.
    open_late: int

    @property
    def on_time_share(self):
        """Decided on time, of the decisions and the open applications already late."""
        settled = self.decided + self.open_late
        return self.on_time / settled if settled else None


def _nearest_rank(values, share):
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _paused_days(session, decided, closing):
    """Application id → working days its clock stood still, for the applications of the query `decided`."""
    stopped = select(ApplicationEvent.application_id).where(
        ApplicationEvent.to_status.in_(AWAITING_FIRM_STATUSES),
        ApplicationEvent.application_id.in_(decided.with_only_columns(Application.id)))
    changes = {}
    for application_id, status, at in session.execute(
            select(ApplicationEvent.application_id, ApplicationEvent.to_status, ApplicationEvent.at)
            .where(ApplicationEvent.application_id.in_(stopped))
            .order_by(ApplicationEvent.application_id, ApplicationEvent.id)):
        changes.setdefault(application_id, []).append((status, at))
    return {application_id: sum(workdays.paused_days(stopped_at, resumed_at, closing)
                                for stopped_at, resumed_at in workdays.pauses(rows) if resumed_at is not None)
            for application_id, rows in changes.items()}


def _figures(taken, on_time, open_late):
    return ResponseTimes(decided=len(taken), median=float(median(taken)) if taken else None,
                         p90=_nearest_rank(taken, 0.9) if taken else None, on_time=on_time, open_late=open_late)


def response_times(session, institution_ids=None, now=None):
    """Institution id → its ResponseTimes (institutions with no decision in the window and nothing late are left out).

    Decisions of the last RESPONSE_TIME_WINDOW_DAYS give the median and p90 (nearest rank) of the
    working days taken and how many came by their due time; applications still waiting past their
    due time count as late in the share on time.
    """
    now = now or utcnow()
    since = now - timedelta(days=current_app.config["RESPONSE_TIME_WINDOW_DAYS"])
    closing = closes_at()
    decided = select(Application.id, Application.institution_id, Application.created_at, Application.decided_at,
                     Application.due_at).where(Application.decided_at >= since)
    late = select(Application.institution_id, func.count(Application.id)).where(*overdue_conditions(now)).group_by(
        Application.institution_id)
    if institution_ids is not None:
        decided = decided.where(Application.institution_id.in_(list(institution_ids)))
        late = late.where(Application.institution_id.in_(list(institution_ids)))
    paused = _paused_days(session, decided, closing)
    taken, on_time = {}, {}
    for row in session.execute(decided):
        taken.setdefault(row.institution_id, []).append(
            workdays.working_days_taken(row.created_at, row.decided_at, paused.get(row.id, 0), closing))
        if row.due_at is not None and row.decided_at <= row.due_at:
            on_time[row.institution_id] = on_time.get(row.institution_id, 0) + 1
    open_late = dict(session.execute(late).all())
    return {institution: _figures(taken.get(institution, []), on_time.get(institution, 0),
                                  open_late.get(institution, 0))
            for institution in taken.keys() | open_late.keys()}


def institutions_response(session, now=None):
    """Every institution with its measured response times (None when it has neither decisions nor late ones)."""
    times = response_times(session, now=now)
    institutions = session.scalars(select(Institution).order_by(Institution.name)).all()
    return [(institution, times.get(institution.id)) for institution in institutions]
