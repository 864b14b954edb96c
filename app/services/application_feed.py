"""An institution's applications as its own systems read them: filtered by status, due time and last
change, in pages that a cursor continues (rows added while a client pages do not shift its pages)."""
import base64
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.common.errors import InvalidInput
from app.common.ids import MAX_ID
from app.common.vocab import APPLICATION_STATUSES
from app.entities import Application, ApplicationEvent


@dataclass(frozen=True)
class Page:
    """Applications in id order, each with the time of its last step, and the cursor of the next page."""

    rows: list
    next_cursor: str | None


def encode_cursor(last_id):
    """The opaque cursor after the application `last_id`."""
    return base64.urlsafe_b64encode(f"a{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The application id a cursor continues after; InvalidInput for one this API did not give."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        last_id = int(text.removeprefix("a")) if text.startswith("a") else None
    except (ValueError, UnicodeDecodeError):
        last_id = None
    if last_id is None or not 0 <= last_id <= MAX_ID:
        raise InvalidInput(_("分页游标无效，请使用上一页返回的 next_cursor。"), "cursor")
    return last_id


def last_steps():
    """application id → the time of its latest event, as a subquery."""
    return (select(ApplicationEvent.application_id, func.max(ApplicationEvent.at).label("updated_at"))
            .group_by(ApplicationEvent.application_id).subquery())


def page_of(session, institution_id, status=None, due_before=None, updated_since=None, cursor=None, limit=50):
    """A page of the institution's applications (oldest first) with their last change."""
    if status is not None and status not in APPLICATION_STATUSES:
        raise InvalidInput(_("申请状态无效。"), "status")
    steps = last_steps()
    query = (select(Application, steps.c.updated_at).join(steps, steps.c.application_id == Application.id)
             .where(Application.institution_id == institution_id)
             .options(selectinload(Application.product), selectinload(Application.subject),
                      selectinload(Application.loan)))
    if status is not None:
        query = query.where(Application.status == status)
    if due_before is not None:
        query = query.where(Application.due_at <= due_before)
    if updated_since is not None:
        query = query.where(steps.c.updated_at >= updated_since)
    if cursor:
        query = query.where(Application.id > decode_cursor(cursor))
    rows = session.execute(query.order_by(Application.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = [(application, updated_at) for application, updated_at in rows[:limit]]
    return Page(rows, encode_cursor(rows[-1][0].id) if more else None)


def updated_at(session, application_id):
    """The time of an application's latest step."""
    return session.scalar(select(func.max(ApplicationEvent.at))
                          .where(ApplicationEvent.application_id == application_id))
