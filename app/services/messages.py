"""银企线上沟通问答: a firm and a lender write to each other about a need or an application.

A lender may ask about a need its screening shows, anonymised: the thread shows it the need's
profile and calls the firm "企业" until the firm releases its identity to that institution through
the screening release it already has (app/services/identity.py); nothing here releases it. A thread on
an application is between the firm and the institution handling it. Reading a thread that carries
the firm's data (an application's, or a need's after the release) is a view logged in 查询记录 under
the consent that allows it; the firm reading its own threads is not.
"""
import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import LENDER_ROLES
from app.entities import (
    Application,
    Consent,
    CreditSubject,
    FinancingNeed,
    Match,
    Message,
    MessageThread,
    Product,
    ThreadRead,
    User,
)
from app.entities.base import utcnow
from app.entities.users import FIRM, LENDER_OFFICER

from . import attachments, consents, faq, notifications, screening

FIRM_SIDE, LENDER_SIDE = "firm", "lender"
# The handle of a need in a lender's links: the need's id through a keyed permutation of 64-bit numbers
# (a four-round Feistel network whose round function is HMAC-SHA256 of the institution and the round),
# so the screening's anonymised rows carry no id another page could tie to the firm, and a handle is
# worth nothing to another institution.
HANDLE_ROUNDS = 4
HALF = 0xFFFFFFFF


def _round(institution_id, step, half):
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"need-handle:{institution_id}:{step}:{half}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def need_handle(need_id, institution_id):
    """The handle of a need in `institution_id`'s links: "q" and 16 hex digits (its id, keyed and permuted;
    the letter keeps it from reading as a number)."""
    left, right = need_id >> 32, need_id & HALF
    for step in range(HANDLE_ROUNDS):
        left, right = right, left ^ _round(institution_id, step, right)
    return f"q{(left << 32) | right:016x}"


def need_id_of(handle, institution_id):
    """The need id behind `institution_id`'s handle, None when it is no handle (any 16 hex digits give a
    number: the caller checks that the need is one the institution may see)."""
    digits = handle[1:] if handle.startswith("q") else ""
    if len(digits) != 16 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    value = int(digits, 16)
    left, right = value >> 32, value & HALF
    for step in reversed(range(HANDLE_ROUNDS)):
        left, right = right ^ _round(institution_id, step, left), left
    return (left << 32) | right


def side_of(user):
    """'firm', 'lender' or None: which side of a thread the user can be on."""
    if user.role == FIRM:
        return FIRM_SIDE
    return LENDER_SIDE if user.role in LENDER_ROLES else None


def can_see(thread, user):
    """True when `user` is on one of the thread's sides: a user of its firm or staff of its institution."""
    side = side_of(user)
    if side == FIRM_SIDE:
        return thread.subject_id == user.subject_id
    return side == LENDER_SIDE and thread.institution_id == user.institution_id


def need_in_screening(session, need, institution_id):
    """True when the open need passes one of the institution's published products (its screening shows it)."""
    if need.status != "open":
        return False
    return session.scalar(select(Match.id).join(Product, Product.id == Match.product_id).where(
        Match.need_id == need.id, Match.eligible.is_(True), Product.institution_id == institution_id,
        Product.status == "published").limit(1)) is not None


def need_thread(session, need, institution_id):
    """The institution's thread on the need, or None."""
    return session.scalar(select(MessageThread).where(MessageThread.need_id == need.id,
                                                      MessageThread.institution_id == institution_id))


def application_thread(session, application):
    """The application's thread, or None."""
    return session.scalar(select(MessageThread).where(MessageThread.application_id == application.id))


def threads_of_need(session, need):
    """Every institution's thread on one of the firm's needs, latest first."""
    return session.scalars(select(MessageThread).where(MessageThread.need_id == need.id)
                           .order_by(MessageThread.last_message_at.desc())).all()


def clean_body(text):
    """The message text, trimmed; InvalidInput when empty or longer than MESSAGE_MAX_CHARS."""
    limit = current_app.config["MESSAGE_MAX_CHARS"]
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("请填写消息内容。"), "body")
    if len(text) > limit:
        raise InvalidInput(_("消息不能超过 %(n)d 个字（现有 %(m)d 个字），较长的材料请作为附件发送。",
                             n=limit, m=len(text)), "body")
    return text


def ask_about_need(session, need, officer, body, upload=None):
    """A loan officer's message on a need its institution's screening shows (the thread is opened on the
    first one); 404-like NotAllowed for a need the screening does not show."""
    if officer.role != LENDER_OFFICER:
        raise NotAllowed(_("只有客户经理可以就融资需求提问。"))
    thread = need_thread(session, need, officer.institution_id)
    if thread is None:
        if not need_in_screening(session, need, officer.institution_id):
            raise NotAllowed(_("该融资需求不在本机构的筛选结果中，不能提问。"))
        thread = MessageThread(subject_id=need.subject_id, institution_id=officer.institution_id,
                               need_id=need.id, started_by_id=officer.id)
        session.add(thread)
    return post(session, thread, officer, body, upload)


def write_on_application(session, application, user, body, upload=None, publish=False):
    """A message on an application by its firm or the institution's staff (the thread is opened on the first)."""
    thread = application_thread(session, application)
    if thread is None:
        thread = MessageThread(subject_id=application.subject_id, institution_id=application.institution_id,
                               application_id=application.id, started_by_id=user.id)
        session.add(thread)
    return post(session, thread, user, body, upload, publish)


def post(session, thread, user, body, upload=None, publish=False):
    """Stage a message (with an optional attachment) by `user` on `thread`, notify the other side, and,
    when the firm allows it, publish its answer with the question before it in the FAQ."""
    if not can_see(thread, user):
        raise NotAllowed(_("您不是该会话的参与方。"))
    from_firm = side_of(user) == FIRM_SIDE
    body = clean_body(body)
    if publish and not from_firm:
        raise NotAllowed(_("只有企业可以公开自己的回答。"))
    question = _last_question(thread) if publish else None
    message = Message(thread=thread, sender_id=user.id, from_firm=from_firm, body=body, sent_at=utcnow())
    session.add(message)
    if upload is not None and upload.filename:
        session.add(attachments.store(upload, message))
    if question is not None:
        faq.publish(session, question, message)
    thread.last_message_at = message.sent_at
    session.flush()
    _mark_read(session, thread, user, message.id)
    _notify_other_side(session, thread, user, from_firm)
    return message


def _last_question(thread):
    """The lender's latest message in the thread (the question a firm's answer is published with)."""
    question = next((m for m in reversed(thread.messages) if not m.from_firm), None)
    if question is None:
        raise InvalidInput(_("机构还没有提问，没有可以公开的问答。"), "publish")
    return question


def _notify_other_side(session, thread, sender, from_firm):
    topic = "need" if thread.need_id else f"application:{thread.application_id}"
    link = thread_link(thread)
    if not from_firm:
        notifications.notify(session, thread_subject(session, thread), "message", link=link,
                             sender=thread.institution.name, topic=topic)
        return
    for user in _lender_recipients(session, thread):
        notifications.notify(session, user, "message", link=link, sender=_firm_name(session, thread), topic=topic)


def thread_link(thread):
    """The path of the thread's page (where its notifications point)."""
    return f"/messages/{thread.id}"


def thread_subject(session, thread):
    """The thread's firm (a CreditSubject)."""
    return session.get(CreditSubject, thread.subject_id)


def _firm_name(session, thread):
    """The firm's name as the lender may read it: None (shown as "企业") on a need before the release."""
    return thread_subject(session, thread).name if identity_consent(session, thread) else None


def _lender_recipients(session, thread):
    """The institution's staff a firm's message reaches: who wrote in the thread and who handles its
    application; when nobody has yet, every active officer of the institution."""
    writers = select(Message.sender_id).where(Message.thread_id == thread.id, Message.from_firm.is_(False))
    ids = set(session.scalars(writers))
    if thread.application_id is not None:
        assigned = session.scalar(select(Application.assigned_to_id).where(Application.id == thread.application_id))
        ids |= {assigned} if assigned else set()
    query = select(User).where(User.institution_id == thread.institution_id, User.active.is_(True))
    query = query.where(User.id.in_(ids)) if ids else query.where(User.role == LENDER_OFFICER)
    return session.scalars(query.order_by(User.id)).all()


def identity_consent(session, thread):
    """The consent under which the lender may know and read the firm in this thread: the application's
    own consent, or, on a need, the firm's screening release to the institution in force; else None."""
    if thread.application_id is not None:
        return session.get(Consent, session.get(Application, thread.application_id).consent_id)
    return consents.consent_in_force(session, thread.subject_id, thread.institution_id, consents.SCREENING)


@dataclass
class ThreadView:
    """A thread as one user reads it: its messages, whether the reader may see who the firm is, whether
    the lender knows it, and for a lender who does not, the need's anonymised profile."""

    thread: MessageThread
    messages: list
    identified: bool
    lender_knows: bool
    profile: object = None


def read(session, thread, user):
    """The thread for `user`, marked read up to its last message; a lender's reading of firm data is logged."""
    messages = list(thread.messages)
    side = side_of(user)
    consent = identity_consent(session, thread)
    identified = side == FIRM_SIDE or consent is not None
    if side == LENDER_SIDE and consent is not None:
        consents.log_access(session, thread.subject_id, user, consent, f"messages:thread:{thread.id}")
    notifications.mark_read_at(session, user, thread_link(thread))
    if messages:
        _mark_read(session, thread, user, messages[-1].id)
        now = utcnow()
        for message in messages:
            if message.from_firm != (side == FIRM_SIDE) and message.read_at is None:
                message.read_at = now
    profile = None
    if not identified and thread.need_id is not None:
        profile = screening.need_profile(session, session.get(FinancingNeed, thread.need_id))
    return ThreadView(thread, messages, identified, consent is not None, profile)


def log_attachment_view(session, attachment, user):
    """Log a lender's download of an attachment in a thread that carries the firm's data."""
    thread = attachment.message.thread
    if side_of(user) != LENDER_SIDE:
        return
    consent = identity_consent(session, thread)
    if consent is not None:
        consents.log_access(session, thread.subject_id, user, consent, f"messages:attachment:{attachment.id}")


def _mark_read(session, thread, user, message_id):
    mark = session.scalar(select(ThreadRead).where(ThreadRead.thread_id == thread.id, ThreadRead.user_id == user.id))
    if mark is None:
        session.add(ThreadRead(thread_id=thread.id, user_id=user.id, last_read_id=message_id))
    elif message_id > mark.last_read_id:
        mark.last_read_id, mark.read_at = message_id, utcnow()


def _side_condition(user):
    side = side_of(user)
    if side == FIRM_SIDE:
        return MessageThread.subject_id == user.subject_id
    if side == LENDER_SIDE:
        return MessageThread.institution_id == user.institution_id
    return None


def _unread_query(user, *columns):
    """Messages of the other side newer than the user's read mark, in the threads of the user's side."""
    mark = and_(ThreadRead.thread_id == MessageThread.id, ThreadRead.user_id == user.id)
    return (select(*columns).select_from(Message).join(MessageThread, MessageThread.id == Message.thread_id)
            .outerjoin(ThreadRead, mark)
            .where(_side_condition(user), Message.from_firm.is_(side_of(user) == LENDER_SIDE),
                   or_(ThreadRead.last_read_id.is_(None), Message.id > ThreadRead.last_read_id)))


def unread_count(session, user):
    """How many messages from the other side the user has not read (0 for users of no side)."""
    if side_of(user) is None:
        return 0
    return session.scalar(_unread_query(user, func.count(Message.id)))


@dataclass
class InboxRow:
    """A thread in a user's list: its unread messages, and whether the firm may be named to the reader."""

    thread: MessageThread
    unread: int
    identified: bool


def threads_of(session, user, limit=100):
    """The threads of the user's side, latest first, as InboxRows."""
    condition = _side_condition(user)
    if condition is None:
        return []
    unread = dict(session.execute(_unread_query(user, Message.thread_id, func.count(Message.id))
                                  .group_by(Message.thread_id)).all())
    threads = session.scalars(select(MessageThread).where(condition)
                              .order_by(MessageThread.last_message_at.desc()).limit(limit)).all()
    released = set()
    if side_of(user) == LENDER_SIDE:
        released = set(consents.consent_ids_in_force(session, user.institution_id, {t.subject_id for t in threads},
                                                     consents.SCREENING))
    return [InboxRow(thread, unread.get(thread.id, 0), side_of(user) == FIRM_SIDE
                     or thread.application_id is not None or thread.subject_id in released) for thread in threads]
