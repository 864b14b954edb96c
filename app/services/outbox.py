"""The e-mail/SMS outbox: notifications copied for users who gave an address wait here until `flask
outbox send` hands them to the configured sender (OUTBOX_SENDER, a name of SENDERS).

No external service is called by the platform itself: a deployment plugs in a sender class that talks
to its mail relay or SMS gateway (one method, `send(message)`, raising on failure) and registers it here.
"""
import logging

from flask import current_app
from sqlalchemy import select

from app.entities import OutboxMessage
from app.entities.base import utcnow

# A message that failed this many times is left for a person to look at.
MAX_ATTEMPTS = 5
BATCH = 500


class LoggingSender:
    """Writes each message to the application log and counts it as sent (the default: no gateway)."""

    def __init__(self, logger=None):
        self.logger = logger or logging.getLogger("app.outbox")

    def send(self, message):
        """Log the message's channel, address and subject."""
        self.logger.info("outbox %s to %s: %s", message.channel, message.to, message.subject)


SENDERS = {"log": LoggingSender}


def sender_named(name):
    """An instance of the sender registered as `name`; KeyError naming the known ones otherwise."""
    try:
        return SENDERS[name]()
    except KeyError:
        raise KeyError(f"OUTBOX_SENDER {name!r} is not one of {sorted(SENDERS)}") from None


def pending(session, limit=BATCH):
    """Messages waiting to be sent (new ones and failed ones with attempts left), oldest first."""
    return session.scalars(select(OutboxMessage).where(
        OutboxMessage.status.in_(("pending", "failed")), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id).limit(limit)).all()


def send_pending(session, sender=None, after_each=None):
    """Hand every waiting message to the sender; each is marked sent, or failed with the error, and
    then `after_each()` runs (the command commits there, so a message sent is never sent again).
    Returns {"sent": n, "failed": n}."""
    sender = sender or sender_named(current_app.config["OUTBOX_SENDER"])
    counts = {"sent": 0, "failed": 0}
    for message in pending(session):
        message.attempts += 1
        try:
            sender.send(message)
        except Exception as error:  # noqa: BLE001 - any gateway failure is recorded on the row, not raised
            message.status, message.error = "failed", str(error)[:500]
            counts["failed"] += 1
        else:
            message.status, message.sent_at, message.error = "sent", utcnow(), None
            counts["sent"] += 1
        if after_each is not None:
            after_each()
    return counts
