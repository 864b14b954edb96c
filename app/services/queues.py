"""A lender's work queue: its open applications by due time, who handles each, and the admin's assignments."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.common.errors import NotAllowed
from app.common.vocab import OPEN_APPLICATION_STATUSES
from app.entities import Application, User
from app.entities.users import LENDER_ADMIN, LENDER_OFFICER

from . import audit, response_clock

PAGE_SIZE = 50
# Decided applications shown under the whole queue, latest first.
RECENT_DECIDED = 10


@dataclass
class QueueRow:
    """One application of the queue, the working days it is late (0 when it is not), whether it is still open."""

    application: Application
    days_late: int
    is_open: bool


@dataclass
class Queue:
    """One page of a queue, the number of open applications in each scope, the latest decisions (under
    the first page of the whole queue), and for an admin the institution's officers (to assign to) and
    its measured response times."""

    rows: list[QueueRow]
    counts: dict
    page: int
    page_size: int
    recent: list[Application] = field(default_factory=list)
    officers: list[User] = field(default_factory=list)
    response: response_clock.ResponseTimes | None = None


def _scope_condition(scope, user):
    return {"mine": Application.assigned_to_id == user.id, "unassigned": Application.assigned_to_id.is_(None),
            "escalated": Application.escalated_at.is_not(None)}.get(scope)


def _counts(session, user):
    """Open applications of the user's institution in each scope."""
    scopes = ("mine", "unassigned", "escalated")
    row = session.execute(select(func.count(Application.id), *[
        func.count(case((_scope_condition(scope, user), 1))) for scope in scopes]).where(
        Application.institution_id == user.institution_id, Application.status.in_(OPEN_APPLICATION_STATUSES))).one()
    return dict(zip(("all", *scopes), row, strict=True))


def officer_queue(session, user, now, scope="all", status=None, page=1, page_size=PAGE_SIZE):
    """The user's institution's queue in `scope`: open applications (or those of one `status`), the
    ones due first on top; decided ones, the latest decision first."""
    query = select(Application).where(Application.institution_id == user.institution_id)
    query = query.where(Application.status == status) if status else query.where(
        Application.status.in_(OPEN_APPLICATION_STATUSES))
    condition = _scope_condition(scope, user)
    if condition is not None:
        query = query.where(condition)
    if status and status not in OPEN_APPLICATION_STATUSES:
        order = (Application.decided_at.desc().nulls_last(), Application.id.desc())
    else:
        order = (Application.due_at.asc().nulls_last(), Application.id)
    applications = session.scalars(
        query.options(joinedload(Application.subject), joinedload(Application.product),
                      joinedload(Application.assigned_to))
        .order_by(*order).limit(page_size).offset((max(page, 1) - 1) * page_size)).all()
    queue = Queue(rows=[QueueRow(a, response_clock.days_late(a, now), a.status in OPEN_APPLICATION_STATUSES)
                        for a in applications],
                  counts=_counts(session, user), page=page, page_size=page_size)
    if scope == "all" and status is None and page == 1:
        queue.recent = recently_decided(session, user.institution_id)
    if user.role == LENDER_ADMIN:
        queue.officers = officers_of(session, user.institution_id)
        queue.response = response_clock.response_times(session, [user.institution_id], now).get(user.institution_id)
    return queue


def recently_decided(session, institution_id, limit=RECENT_DECIDED):
    """The institution's latest decisions, latest first."""
    return session.scalars(
        select(Application).where(Application.institution_id == institution_id, Application.decided_at.is_not(None))
        .options(joinedload(Application.subject), joinedload(Application.product),
                 joinedload(Application.assigned_to))
        .order_by(Application.decided_at.desc(), Application.id.desc()).limit(limit)).all()


def officers_of(session, institution_id):
    """The institution's active loan officers, by name."""
    return session.scalars(select(User).where(User.institution_id == institution_id, User.role == LENDER_OFFICER,
                                              User.active).order_by(User.display_name, User.id)).all()


def assign(session, application, officer, admin):
    """The institution's admin gives an open application to one of its active officers (`None`: to nobody); audited."""
    if admin.role != LENDER_ADMIN or admin.institution_id != application.institution_id:
        raise NotAllowed(_("只有本机构的管理员可以分配申请。"))
    if officer is not None and (officer.role != LENDER_OFFICER or not officer.active
                                or officer.institution_id != application.institution_id):
        raise NotAllowed(_("只能分配给本机构在岗的客户经理。"))
    if application.status not in OPEN_APPLICATION_STATUSES:
        raise NotAllowed(_("该申请已办结，无需分配。"))
    new_id = officer.id if officer is not None else None
    if application.assigned_to_id == new_id:
        return False
    application.assigned_to = officer
    audit.record(session, admin, "application.assign", application,
                 officer=officer.username if officer is not None else "")
    session.flush()
    return True
