"""Forms that post once: each rendering of a form carries a one-time token, stored on the row it
creates, so a double click, a reload or two tabs submitting the same form post one record."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.common.errors import NotAllowed


def insert_once(session, row, message):
    """Stage `row` and flush it; a unique clash (the same form or record posted twice at once)
    is NotAllowed(`message`), and the caller rolls back."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as clash:
        if "unique" not in str(clash.orig).lower():
            raise
        raise NotAllowed(message) from None
    return row


def posted_with(session, entity, subject_id, token):
    """The row of `entity` that `subject_id`'s form with `token` posted, or None."""
    if not token:
        return None
    return session.scalars(select(entity).where(entity.form_token == token, entity.subject_id == subject_id)).first()
