"""Applications: a state machine whose every step is an event with actor and time.

Every change of status goes through `advance`, one conditional UPDATE on the status and version
the caller read (optimistic locking): of two officers deciding at the same moment one wins, the
other is told that someone else handled the application, and nothing of its change is written.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from app.common.dates import local_date
from app.common.errors import InvalidInput, NotAllowed
from app.common.money import format_rate
from app.common.vocab import (
    APPLICATION_STATUSES,
    DECLINE_REASONS,
    GUARANTEE_TYPES,
    MAX_DECLINE_REASONS,
    OPEN_APPLICATION_STATUSES,
    PENDING_APPLICATION_STATUSES,
    REPAYMENT_METHODS,
)
from app.entities import Application, ApplicationEvent
from app.entities.base import utcnow

from . import audit, compliance, consents, needs, notifications, response_clock
from .products import current_version, failed_rules
from .submissions import insert_once, posted_with

# The longest note an officer or a firm may attach to a step, and the longest collateral description.
MAX_NOTE = 500
MAX_COLLATERAL = 200
# How long an offer stays open for the firm when the officer keeps the form's suggestion.
DEFAULT_OFFER_DAYS = 30
# Allowed moves: status → statuses it may go to (DESIGN §4 flow 4, docs/lifecycle.md).
TRANSITIONS = {
    "submitted": {"in_review", "withdrawn"},
    "in_review": {"info_requested", "approved", "declined", "withdrawn"},
    "info_requested": {"in_review", "withdrawn"},
    "approved": {"offer_accepted", "offer_declined", "expired"},
    "offer_accepted": {"disbursed", "offer_declined"},
    "disbursed": {"repaying", "overdue", "repaid", "defaulted"},
    "repaying": {"overdue", "repaid", "defaulted"},
    "overdue": {"repaying", "repaid", "defaulted", "written_off"},
    "defaulted": {"repaid", "written_off"},
}


def conflict():
    """The refusal of a change someone else made first."""
    return NotAllowed(_("已被他人处理，请刷新后查看。"))


def _claim(application, to_status):
    """UPDATE the row to `to_status` (version + 1) only if its status and version are still those
    read; refuse when another transaction got there first."""
    session = object_session(application)
    claimed = session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == application.status,
               Application.version == application.version)
        .values(status=to_status, version=Application.version + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise conflict()
    set_committed_value(application, "version", application.version + 1)
    set_committed_value(application, "status", to_status)


def _check_seen(application, seen_version):
    if seen_version is not None and seen_version != application.version:
        raise conflict()


def check_move(application, to_status, seen_version=None):
    """Refuse a move from a page showing an older version, or one the transition table does not
    allow from the application's status."""
    _check_seen(application, seen_version)
    if to_status not in TRANSITIONS.get(application.status, set()):
        raise NotAllowed(_("当前状态“%(s)s”下不能执行该操作。", s=APPLICATION_STATUSES.label(application.status)))


def advance(application, to_status, actor, note=None, *, seen_version=None, now=None):
    """Move the application to `to_status` and record the event: the one way a status changes.

    `actor` is None for the platform's own steps; `seen_version` is the version the user's page
    showed (None: the one just read).
    """
    from_status = application.status
    check_move(application, to_status, seen_version)
    _claim(application, to_status)
    event = ApplicationEvent(from_status=from_status, to_status=to_status, actor_id=actor.id if actor else None,
                             note=note, at=now or utcnow())
    application.events.append(event)
    return event


def hold(application, seen_version=None):
    """Claim the application without changing its status (a monthly report that changes nothing)."""
    _check_seen(application, seen_version)
    _claim(application, application.status)


def check_firm(application, user):
    """Refuse a user who is not of the application's firm."""
    if user.subject_id != application.subject_id:
        raise NotAllowed(_("只能办理本主体的申请。"))


def check_officer(application, officer):
    """Refuse an officer of another institution."""
    if officer.institution_id != application.institution_id:
        raise NotAllowed(_("只能办理本机构的申请。"))


def clean_note(note):
    """An optional note, stripped (None when blank); InvalidInput when longer than MAX_NOTE."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_("说明不能超过 %(n)d 个字符。", n=MAX_NOTE), "note")
    return note or None


def submitted_with(session, subject_id, form_token):
    """The application a subject's apply form with `form_token` made, or None."""
    return posted_with(session, Application, subject_id, form_token)


def apply(session, need, product, user, consent_given, form_token=None, now=None):
    """Stage an application of the user's need for a product, with the consent it needs.

    The same form submitted again (same `form_token`) returns the application it made.
    """
    earlier = submitted_with(session, user.subject_id, form_token)
    if earlier is not None:
        return earlier
    if need.subject_id != user.subject_id:
        raise NotAllowed(_("只能用本主体的需求申请。"))
    if need.status != "open":
        raise NotAllowed(_("该需求已关闭，不能再申请。"))
    if product.status != "published" or not product.institution.active:
        raise NotAllowed(_("该产品已下架。"))
    failures = failed_rules(session, product, need)
    if failures:
        raise InvalidInput(_("该产品与需求不匹配：%(why)s", why="；".join(failures)))
    if not consent_given:
        raise InvalidInput(_("申请前须授权该机构查询您的信用信息。"), "consent")
    duplicate = select(Application.id).where(
        Application.need_id == need.id, Application.product_id == product.id,
        Application.status.in_(PENDING_APPLICATION_STATUSES))
    if session.scalar(duplicate) is not None:
        raise NotAllowed(_("您已用该需求申请过这个产品。"))
    consent = consents.grant_underwriting_consent(
        session, need.subject, product.institution, user,
        _("为审核融资申请（%(p)s）查询信用信息", p=product.name))
    now = now or utcnow()
    # A product that covers part of the need is applied for up to its maximum.
    application = Application(need=need, product=product, subject_id=need.subject_id,
                              institution_id=product.institution_id, consent_id=consent.id,
                              product_version_id=current_version(session, product).id,
                              amount=min(need.amount, product.amount_max), term_months=need.term_months,
                              status="submitted", form_token=form_token or None, created_at=now)
    application.events.append(ApplicationEvent(from_status=None, to_status="submitted", actor_id=user.id, at=now))
    # Two submits at once: the pending-pair index or the token lets one through.
    insert_once(session, application, _("您已用该需求申请过这个产品。"))
    response_clock.start(application, application.created_at)
    audit.record(session, user, "application.submit", application, product=product.name)
    return application


def start_review(application, officer, seen_version=None, now=None):
    """An officer takes a submitted application (or one whose firm answered) into review."""
    check_officer(application, officer)
    return advance(application, "in_review", officer, seen_version=seen_version, now=now)


def request_info(application, officer, note, seen_version=None, now=None):
    """Ask the firm for more information; the question is required."""
    check_officer(application, officer)
    check_move(application, "info_requested", seen_version)
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(_("请写明需要补充的材料（不超过 %(n)d 字）。", n=MAX_NOTE), "note")
    event = advance(application, "info_requested", officer, note, seen_version=seen_version, now=now)
    _tell_firm(application, "info_requested")
    return event


@dataclass(frozen=True)
class Offer:
    """What an approval offers the firm (授信批复): amount in 元, rate in % a year, term, repayment
    method, guarantee (with a description of the collateral) and the last day the firm may accept."""

    amount: Decimal | None
    rate: Decimal | None
    term_months: int | None
    repayment: str | None
    guarantee: str | None
    valid_until: date | None
    collateral: str = ""


def default_offer_valid_until(now=None):
    """The acceptance deadline an approval form suggests."""
    return local_date(now) + timedelta(days=DEFAULT_OFFER_DAYS)


def _checked_offer(application, offer, today):
    """Refuse an offer outside the application and the product's terms (field names as Offer's)."""
    product = application.product
    if offer.amount is None or not (0 < offer.amount <= application.amount):
        raise InvalidInput(_("批准金额应大于 0 且不超过申请金额。"), "amount")
    if offer.rate is None or not (product.rate_min <= offer.rate <= product.rate_max):
        raise InvalidInput(_("批准利率应在产品利率区间 %(lo)s%%–%(hi)s%% 之内。",
                             lo=format_rate(product.rate_min), hi=format_rate(product.rate_max)), "rate")
    if offer.term_months is None or not (product.term_min_months <= offer.term_months <= product.term_max_months):
        raise InvalidInput(_("批准期限应在产品期限 %(lo)d–%(hi)d 个月之内。", lo=product.term_min_months,
                             hi=product.term_max_months), "term_months")
    if offer.repayment not in REPAYMENT_METHODS:
        raise InvalidInput(_("请选择还款方式。"), "repayment")
    if offer.guarantee not in product.guarantee_types or offer.guarantee not in GUARANTEE_TYPES:
        raise InvalidInput(_("担保方式应为该产品接受的方式：%(g)s。", g="、".join(
            GUARANTEE_TYPES.label(g) for g in product.guarantee_types)), "guarantee")
    collateral = (offer.collateral or "").strip()
    if len(collateral) > MAX_COLLATERAL:
        raise InvalidInput(_("担保物说明不能超过 %(n)d 个字符。", n=MAX_COLLATERAL), "collateral")
    if offer.valid_until is None or offer.valid_until < today:
        raise InvalidInput(_("批复有效期不能早于今天。"), "valid_until")
    return collateral or None


def approve(session, application, officer, offer, note=None, seen_version=None, now=None):
    """Approve with an offer whose amount, rate, term and guarantee lie in the product's terms."""
    check_officer(application, officer)
    check_move(application, "approved", seen_version)
    collateral = _checked_offer(application, offer, local_date(now))
    apr, findings = compliance.check_offer(application, offer.rate, offer.term_months, offer.repayment)
    note = clean_note(note)
    advance(application, "approved", officer, note, seen_version=seen_version, now=now)
    application.approved_amount = offer.amount
    application.approved_rate = Decimal(offer.rate)
    # Disclosed with the offer: the annualised total cost, fees included (PBoC 2021 rule on APR disclosure).
    application.approved_apr = Decimal(f"{apr:.3f}")
    application.approved_term_months = offer.term_months
    application.approved_repayment = offer.repayment
    application.approved_guarantee = offer.guarantee
    application.approved_collateral = collateral
    application.offer_valid_until = offer.valid_until
    _decided(session, application, officer, "application.approve", now)
    compliance.flag_findings(session, findings, application, application.institution_id, now)


def decline(session, application, officer, reason_codes, note=None, seen_version=None, now=None):
    """Decline with one to four principal reasons from the fixed list."""
    check_officer(application, officer)
    check_move(application, "declined", seen_version)
    codes = list(dict.fromkeys(reason_codes or []))
    if not 1 <= len(codes) <= MAX_DECLINE_REASONS or set(codes) - set(DECLINE_REASONS):
        raise InvalidInput(_("请选择 1 至 %(n)d 项具体拒绝原因。", n=MAX_DECLINE_REASONS), "reasons")
    note = clean_note(note)
    advance(application, "declined", officer, note, seen_version=seen_version, now=now)
    application.decision_reasons = codes
    _decided(session, application, officer, "application.decline", now, reasons=",".join(codes))


def _decided(session, application, officer, action, now, **details):
    application.decided_at = now or utcnow()
    application.decided_by_id = officer.id
    application.decision_note = application.events[-1].note
    audit.record(session, officer, action, application, **details)
    _tell_firm(application, "decision", outcome=application.status)


def _tell_firm(application, kind, **params):
    """Notify the applicant's users of a step the lender took (the bell, and e-mail/SMS where configured)."""
    notifications.notify(object_session(application), application.subject, kind,
                         link=f"/firm/applications/{application.id}", institution=application.institution.name,
                         application=application.id, **params)


def withdraw(application, user, seen_version=None, now=None):
    """The firm withdraws its application before a decision."""
    check_firm(application, user)
    return advance(application, "withdrawn", user, seen_version=seen_version, now=now)


def answer_info_request(application, user, note, seen_version=None, now=None):
    """The firm answers an information request; the application returns to review."""
    check_firm(application, user)
    if application.status != "info_requested":
        raise NotAllowed(_("机构没有要求补充材料，无需答复。"))
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(_("请填写补充说明（不超过 %(n)d 字）。", n=MAX_NOTE), "note")
    response_clock.resume(application, now or utcnow())
    return advance(application, "in_review", user, note, seen_version=seen_version, now=now)


def offer_expired(application, now=None):
    """True when the application's offer is waiting for the firm past its last day."""
    return (application.status == "approved" and application.offer_valid_until is not None
            and application.offer_valid_until < local_date(now))


def accept_offer(session, application, user, seen_version=None, now=None):
    """The firm accepts the offer, on or before its last day."""
    check_firm(application, user)
    if offer_expired(application, now):
        raise NotAllowed(_("该批复已于 %(d)s 过期，不能再接受。", d=application.offer_valid_until.isoformat()))
    advance(application, "offer_accepted", user, seen_version=seen_version, now=now)
    audit.record(session, user, "application.accept_offer", application)


def decline_offer(session, application, user, note=None, seen_version=None, now=None):
    """The firm declines the offer (also after accepting it, until the loan is disbursed)."""
    check_firm(application, user)
    note = clean_note(note)
    advance(application, "offer_declined", user, note, seen_version=seen_version, now=now)
    audit.record(session, user, "application.decline_offer", application)


def expire_offers(session, now=None, subject_id=None, application_id=None):
    """Move every offer past its last day (of one firm or one application, if given) to expired;
    returns how many. An offer the firm accepts at the same moment stays accepted."""
    query = select(Application).where(Application.status == "approved",
                                      Application.offer_valid_until < local_date(now))
    if subject_id is not None:
        query = query.where(Application.subject_id == subject_id)
    if application_id is not None:
        query = query.where(Application.id == application_id)
    expired = 0
    for application in session.scalars(query.order_by(Application.id)).all():
        try:
            advance(application, "expired", None, now=now)
        except NotAllowed:
            continue
        expired += 1
    return expired


def close_need(session, application, now=None):
    """Close the need a loan was disbursed for; its other pending applications are withdrawn
    (before a decision) or their offers declined, each by the platform with a note saying why.
    Returns those applications."""
    application.need.status = "closed"
    # Stored notes are in the platform's language, whoever's request closed the need.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        note = _("该融资需求已通过其他申请获得放款，本申请随之关闭。")
    return _close_pending(session, application.need, note, now, keep=application)


def withdraw_need(session, need, now=None):
    """The firm withdraws its open need; its pending applications are withdrawn (before a decision)
    or their offers declined, each by the platform with a note saying why. Returns those applications."""
    needs.withdraw_need(need)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        note = _("企业已撤回该融资需求，本申请随之关闭。")
    return _close_pending(session, need, note, now)


def _close_pending(session, need, note, now, keep=None):
    """Close every pending application of `need` but `keep`; returns those closed."""
    query = select(Application).where(Application.need_id == need.id,
                                      Application.status.in_(PENDING_APPLICATION_STATUSES))
    if keep is not None:
        query = query.where(Application.id != keep.id)
    others = session.scalars(query.order_by(Application.id)).all()
    return [other for other in others if _close(session, other, note, now)]


def _close(session, application, note, now):
    """Close one pending application; a decision made at the same moment is read back and closed too."""
    for _attempt in range(3):
        to_status = "withdrawn" if application.status in OPEN_APPLICATION_STATUSES else "offer_declined"
        try:
            advance(application, to_status, None, note, now=now)
            return True
        except NotAllowed:
            session.refresh(application)
            if application.status not in PENDING_APPLICATION_STATUSES:
                return False
    raise conflict()


def applications_of_subject(session, subject_id):
    """A subject's applications, newest first."""
    return session.scalars(select(Application).where(Application.subject_id == subject_id)
                           .order_by(Application.id.desc())).all()


def applications_of_institution(session, institution_id, status=None):
    """An institution's applications, newest first, optionally of one status."""
    query = select(Application).where(Application.institution_id == institution_id)
    if status:
        query = query.where(Application.status == status)
    return session.scalars(query.order_by(Application.id.desc())).all()
