"""银企线上沟通问答: threads between a firm and a lender about a need or an application, their
messages and attachments, who has read how far, and the answers a firm let the public FAQ show."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Timestamped, utcnow


class MessageThread(Timestamped, db.Model):
    """One conversation of a firm with one institution, on a need (the lender may not know who the firm
    is) or on an application (one thread per application)."""

    __tablename__ = "message_thread"
    __table_args__ = (UniqueConstraint("need_id", "institution_id"), UniqueConstraint("application_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("financing_need.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    need: Mapped["FinancingNeed | None"] = relationship()  # noqa: F821
    application: Mapped["Application | None"] = relationship()  # noqa: F821
    institution: Mapped["Institution"] = relationship()  # noqa: F821
    messages: Mapped[list["Message"]] = relationship(back_populates="thread", order_by="Message.id")


class Message(db.Model):
    """A message of a thread; `read_at` is when someone of the other side first read it."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The side that wrote it: unread counts are of the other side's messages, not a colleague's.
    from_firm: Mapped[bool]
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    thread: Mapped[MessageThread] = relationship(back_populates="messages")
    sender: Mapped["User"] = relationship()  # noqa: F821
    attachments: Mapped[list["MessageAttachment"]] = relationship(back_populates="message",
                                                                  order_by="MessageAttachment.id")


class MessageAttachment(db.Model):
    """A file sent with a message, kept outside the web root under a random name; `file_name` is the
    sender's name for it, cleaned for display."""

    __tablename__ = "message_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(120))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))

    message: Mapped[Message] = relationship(back_populates="attachments")


class ThreadRead(db.Model):
    """How far one user has read one thread: the last message id seen."""

    __tablename__ = "thread_read"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_thread.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    last_read_id: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaqEntry(db.Model):
    """A lender's question and the firm's answer that the firm let the public FAQ (/faq) show; `terms`
    are the words of both (jieba), space-delimited, for the search."""

    __tablename__ = "faq_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    terms: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    question: Mapped[Message] = relationship(foreign_keys=[question_id])
    answer: Mapped[Message] = relationship(foreign_keys=[answer_id])


class Notification(db.Model):
    """Something a user should know (a decision, a message…): its kind and parameters, rendered in the
    reader's language when shown; `key` keeps a reminder from being sent twice."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "key"), Index("ix_notification_user_unread", "user_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class UserContact(Timestamped, db.Model):
    """Where a user wants notifications outside the site: one address per channel (email, sms)."""

    __tablename__ = "user_contact"
    __table_args__ = (UniqueConstraint("user_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(120))


class OutboxMessage(db.Model):
    """An e-mail or SMS waiting for `flask outbox send` to hand it to the configured sender."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    channel: Mapped[str] = mapped_column(String(8))
    to: Mapped[str] = mapped_column("to_address", String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
