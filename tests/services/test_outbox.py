"""The outbox: pending copies handed to the configured sender, marked sent or failed."""
import pytest
from sqlalchemy import select

from app.entities import OutboxMessage
from app.extensions import db
from app.services import outbox


class FailingSender:
    def send(self, message):
        raise ConnectionError("gateway down")


def _queue(n=2):
    for k in range(n):
        db.session.add(OutboxMessage(channel="email", to=f"u{k}@example.cn", subject="通知", body="正文"))
    db.session.commit()


def test_the_logging_sender_marks_them_sent(app, caplog):
    _queue()
    caplog.set_level("INFO", logger="app.outbox")
    assert outbox.send_pending(db.session) == {"sent": 2, "failed": 0}
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"} and all(r.sent_at for r in rows)
    assert "u0@example.cn" in caplog.text
    assert outbox.send_pending(db.session) == {"sent": 0, "failed": 0}


def test_a_failure_is_recorded_and_retried_until_the_limit(app):
    _queue(1)
    for _attempt in range(outbox.MAX_ATTEMPTS):
        assert outbox.send_pending(db.session, FailingSender()) == {"sent": 0, "failed": 1}
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.status == "failed" and row.error == "gateway down" and row.attempts == outbox.MAX_ATTEMPTS
    assert outbox.send_pending(db.session, FailingSender()) == {"sent": 0, "failed": 0}


def test_an_unknown_sender_is_named(app):
    with pytest.raises(KeyError, match="not one of"):
        outbox.sender_named("carrier-pigeon")
