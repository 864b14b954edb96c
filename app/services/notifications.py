"""Notifications in the site (the bell): what happened, for whom, read or not; and, for users who gave
an e-mail address or a mobile number, a copy in the outbox for `flask outbox send` (docs/messages.md).

A notification keeps its kind and plain parameters; its text is written when it is shown, in the
reader's language. A reminder carries a key, so running the reminders twice sends it once.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.common.dates import local_date
from app.common.errors import InvalidInput
from app.common.vocab import LIST_TYPES, PURPOSES
from app.entities import Application, Consent, CreditSubject, Notification, OutboxMessage, User, UserContact
from app.entities.base import utcnow

from .list_kinds import list_words

# Kind → its sentence; the parameters are filled in the reader's language when shown.
KINDS = {
    "info_requested": _l("%(institution)s 请您为申请 #%(application)s 补充材料。"),
    "decision": _l("%(institution)s 对您的申请 #%(application)s 作出了决定：%(outcome)s。"),
    "offer_expiring": _l("%(institution)s 对申请 #%(application)s 的授信批复将于 %(date)s 到期，请及时确认。"),
    "message": _l("%(sender)s 在“%(topic)s”中给您发来新消息。"),
    "consent_expiring": _l("您给 %(institution)s 的授权（%(purpose)s）将于 %(date)s 到期。"),
    "objection_answered": _l("您提交的异议 #%(objection)s 已答复。"),
    "repair_decided": _l("您的信用修复申请 #%(request)s 已处理：%(outcome)s。"),
    "listed": _l("您已被列入%(list)s（%(list_type)s），列入事由与移出条件见“我的信用评分”。"),
    "delisted": _l("您已移出%(list)s。"),
    "ownership_received": _l("%(owner)s 已将本主体的账户管理员身份移交给您：您现在可以邀请和移除成员。"),
    "ownership_handed": _l("您已将本主体的账户管理员身份移交给 %(member)s，您现在是普通成员。"),
}
OUTCOMES = {"approved": _l("予以批准"), "declined": _l("不予批准"), "rejected": _l("不予修复")}
CHANNELS = ("email", "sms")
PAGE_SIZE = 50


def _words(params):
    """The parameters as the reader reads them: codes turned into words of their language."""
    words = dict(params)
    if "purpose" in words:
        words["purpose"] = str(PURPOSES.label(words["purpose"]))
    if "list_kind" in words:  # the list's name in the reader's language (older notifications have none)
        words["list"] = list_words(words["list_kind"], "name", words.get("list"))
    if "list_type" in words:
        words["list_type"] = str(LIST_TYPES.label(words["list_type"]))
    if "outcome" in words:
        words["outcome"] = str(OUTCOMES.get(words["outcome"], words["outcome"]))
    if words.get("sender") is None and "sender" in words:
        words["sender"] = _("企业")
    if words.get("topic") == "need":
        words["topic"] = _("融资需求咨询")
    elif str(words.get("topic", "")).startswith("application:"):
        words["topic"] = _("申请 #%(n)s", n=words["topic"].split(":", 1)[1])
    return words


def text_of(notification):
    """The notification's sentence in the current language."""
    return str(KINDS[notification.kind]) % _words(notification.params or {})


def _users(session, recipient):
    """The active users a notification for `recipient` (a User, or a CreditSubject: its firm users) reaches."""
    if isinstance(recipient, User):
        return [recipient] if recipient.active else []
    if isinstance(recipient, CreditSubject):
        return list(session.scalars(select(User).where(User.subject_id == recipient.id, User.role == "firm",
                                                       User.active.is_(True)).order_by(User.id)))
    raise TypeError(f"cannot notify {recipient!r}")


def notify(session, recipient, kind, link=None, key=None, **params):
    """Stage a notification of `kind` for a user or for every user of a firm (a CreditSubject), and
    its e-mail/SMS copies where configured; a `key` the user already had is not sent again. Returns
    the notifications staged."""
    if kind not in KINDS:
        raise KeyError(f"unknown notification kind {kind!r}")
    staged = []
    for user in _users(session, recipient):
        if key is not None and session.scalar(select(Notification.id).where(
                Notification.user_id == user.id, Notification.key == key)) is not None:
            continue
        notification = Notification(user_id=user.id, kind=kind, params=params, link=link, key=key)
        session.add(notification)
        session.flush()
        _queue_copies(session, user, notification)
        staged.append(notification)
    return staged


def _queue_copies(session, user, notification):
    """Put the notification in the outbox for each channel that carries its kind and the user has an address for."""
    channels = [channel for channel, kinds in current_app.config["NOTIFICATION_CHANNELS"].items()
                if notification.kind in kinds]
    if not channels:
        return
    contacts = dict(session.execute(select(UserContact.channel, UserContact.address).where(
        UserContact.user_id == user.id, UserContact.channel.in_(channels))).all())
    if not contacts:
        return
    with force_locale("zh"):
        subject, body = _("印台区数字金融服务平台通知"), text_of(notification)
    for channel, address in contacts.items():
        session.add(OutboxMessage(notification_id=notification.id, channel=channel, to=address,
                                  subject=subject, body=body))


def unread_count(session, user):
    """How many of the user's notifications are unread."""
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def notifications_of(session, user, limit=PAGE_SIZE):
    """The user's latest notifications, unread and read, newest first."""
    return session.scalars(select(Notification).where(Notification.user_id == user.id)
                           .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(notification):
    """Mark one notification read (reading it again changes nothing)."""
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_read_at(session, user, link):
    """Mark the user's unread notifications that point at `link` read (the page they announce was opened)."""
    session.execute(update(Notification).where(Notification.user_id == user.id, Notification.link == link,
                                               Notification.read_at.is_(None)).values(read_at=utcnow()))


def mark_all_read(session, user):
    """Mark every unread notification of the user read; returns how many."""
    return session.execute(update(Notification).where(Notification.user_id == user.id,
                                                      Notification.read_at.is_(None))
                           .values(read_at=utcnow())).rowcount


def contacts_of(session, user):
    """{channel: address} the user gave for e-mail and SMS copies."""
    return dict(session.execute(select(UserContact.channel, UserContact.address)
                                .where(UserContact.user_id == user.id)).all())


def _checked_address(channel, address):
    address = (address or "").strip()
    if not address:
        return None
    if channel == "email":
        local, at, domain = address.partition("@")
        if not (at and local and "." in domain.strip(".") and " " not in address and len(address) <= 120):
            raise InvalidInput(_("请输入有效的电子邮箱地址。"), "email")
    elif not (len(address) == 11 and address.isdigit() and address[0] == "1" and address[1] in "3456789"):
        raise InvalidInput(_("请输入 11 位手机号码。"), "phone")
    return address


def set_contacts(session, user, email, phone):
    """Keep (or remove, when blank) the user's e-mail address and mobile number; InvalidInput on a malformed one."""
    wanted = {"email": _checked_address("email", email), "sms": _checked_address("sms", phone)}
    rows = {row.channel: row for row in session.scalars(select(UserContact).where(UserContact.user_id == user.id))}
    for channel, address in wanted.items():
        row = rows.get(channel)
        if address is None and row is not None:
            session.delete(row)
        elif address is not None and row is None:
            session.add(UserContact(user_id=user.id, channel=channel, address=address))
        elif address is not None:
            row.address = address


def remind(session, now=None):
    """Notify firms of offers and consents that end soon (REMIND_OFFER_DAYS, REMIND_CONSENT_DAYS), once each;
    returns {"offers": n, "consents": n} notifications staged."""
    now = now or utcnow()
    config, today = current_app.config, local_date(now)
    offers = session.scalars(select(Application).where(
        Application.status == "approved", Application.offer_valid_until >= today,
        Application.offer_valid_until <= today + timedelta(days=config["REMIND_OFFER_DAYS"])))
    sent = {"offers": 0, "consents": 0}
    for application in offers:
        sent["offers"] += len(notify(
            session, application.subject, "offer_expiring", link=f"/firm/applications/{application.id}",
            key=f"offer_expiring:{application.id}:{application.offer_valid_until.isoformat()}",
            institution=application.institution.name, application=application.id,
            date=application.offer_valid_until.isoformat()))
    ending = session.scalars(select(Consent).where(
        Consent.is_in_force(now), Consent.valid_to <= now + timedelta(days=config["REMIND_CONSENT_DAYS"])))
    for consent in ending:
        subject = session.get(CreditSubject, consent.subject_id)
        sent["consents"] += len(notify(
            session, subject, "consent_expiring", link="/firm/consents",
            key=f"consent_expiring:{consent.id}:{consent.valid_to.date().isoformat()}",
            institution=consent.institution.name, purpose=consent.purpose_code,
            date=local_date(consent.valid_to).isoformat()))
    return sent
