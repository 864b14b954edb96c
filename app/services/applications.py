"""Applications: a state machine whose every step is an event with actor and time."""
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed
from app.common.money import format_rate
from app.common.vocab import APPLICATION_STATUSES, DECLINE_REASONS, MAX_DECLINE_REASONS
from app.entities import Application, ApplicationEvent
from app.entities.base import utcnow

from . import audit, consents, response_clock
from .products import current_version, failed_rules

# The longest note an officer or a firm may attach to a step.
MAX_NOTE = 500
# Allowed moves: status → statuses it may go to (DESIGN §4 flow 4).
TRANSITIONS = {
    "submitted": {"in_review", "withdrawn"},
    "in_review": {"info_requested", "approved", "declined", "withdrawn"},
    "info_requested": {"in_review", "withdrawn"},
    "approved": {"disbursed"},
    "disbursed": {"repaid", "overdue", "defaulted"},
    "overdue": {"repaid", "defaulted"},
}



def _move(application, to_status, actor, note=None):
    """Move the application to `to_status` and record the event, if the move is allowed."""
    if to_status not in TRANSITIONS.get(application.status, set()):
        raise NotAllowed(_("当前状态“%(s)s”下不能执行该操作。", s=APPLICATION_STATUSES.label(application.status)))
    event = ApplicationEvent(from_status=application.status, to_status=to_status,
                             actor_id=actor.id, note=note)
    application.events.append(event)
    application.status = to_status
    return event


def apply(session, need, product, user, consent_given):
    """Stage an application of the user's need for a product, with the consent it needs."""
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
        Application.status.notin_(("withdrawn", "declined")))
    if session.scalar(duplicate) is not None:
        raise NotAllowed(_("您已用该需求申请过这个产品。"))
    consent = consents.grant_underwriting_consent(
        session, need.subject, product.institution, user,
        _("为审核融资申请（%(p)s）查询信用信息", p=product.name))
    # A product that covers part of the need is applied for up to its maximum.
    application = Application(need=need, product=product, subject_id=need.subject_id,
                              institution_id=product.institution_id, consent_id=consent.id,
                              product_version_id=current_version(session, product).id,
                              amount=min(need.amount, product.amount_max), term_months=need.term_months,
                              status="submitted")
    application.events.append(ApplicationEvent(from_status=None, to_status="submitted",
                                               actor_id=user.id))
    session.add(application)
    session.flush()
    response_clock.start(application, application.created_at)
    audit.record(session, user, "application.submit", application, product=product.name)
    return application


def start_review(application, officer):
    """An officer takes a submitted application (or one whose firm answered) into review."""
    return _move(application, "in_review", officer)


def request_info(application, officer, note):
    """Ask the firm for more information; the question is required."""
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(_("请写明需要补充的材料（不超过 %(n)d 字）。", n=MAX_NOTE), "note")
    return _move(application, "info_requested", officer, note)


def approve(session, application, officer, amount_yuan, rate, note=None):
    """Approve with the amount and rate offered, which must lie in the product's ranges."""
    product = application.product
    if amount_yuan is None or not (0 < amount_yuan <= application.amount):
        raise InvalidInput(_("批准金额应大于 0 且不超过申请金额。"), "amount")
    if rate is None or not (product.rate_min <= rate <= product.rate_max):
        raise InvalidInput(_("批准利率应在产品利率区间 %(lo)s%%–%(hi)s%% 之内。",
                             lo=format_rate(product.rate_min), hi=format_rate(product.rate_max)), "rate")
    if note and len(note) > MAX_NOTE:
        raise InvalidInput(_("说明不能超过 %(n)d 个字符。", n=MAX_NOTE), "note")
    _move(application, "approved", officer, note)
    application.approved_amount = amount_yuan
    application.approved_rate = Decimal(rate)
    _decided(session, application, officer, "application.approve")


def decline(session, application, officer, reason_codes, note=None):
    """Decline with one to four principal reasons from the fixed list."""
    codes = list(dict.fromkeys(reason_codes or []))
    if not 1 <= len(codes) <= MAX_DECLINE_REASONS or set(codes) - set(DECLINE_REASONS):
        raise InvalidInput(_("请选择 1 至 %(n)d 项具体拒绝原因。", n=MAX_DECLINE_REASONS), "reasons")
    if note and len(note) > MAX_NOTE:
        raise InvalidInput(_("说明不能超过 %(n)d 个字符。", n=MAX_NOTE), "note")
    _move(application, "declined", officer, note)
    application.decision_reasons = codes
    _decided(session, application, officer, "application.decline", reasons=",".join(codes))


def _decided(session, application, officer, action, **details):
    application.decided_at = utcnow()
    application.decided_by_id = officer.id
    application.decision_note = application.events[-1].note
    audit.record(session, officer, action, application, **details)


def withdraw(application, user):
    """The firm withdraws its application before a decision."""
    return _move(application, "withdrawn", user)


def answer_info_request(application, user, note):
    """The firm answers an information request; the application returns to review."""
    if application.status != "info_requested":
        raise NotAllowed(_("机构没有要求补充材料，无需答复。"))
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise InvalidInput(_("请填写补充说明（不超过 %(n)d 字）。", n=MAX_NOTE), "note")
    response_clock.resume(application, utcnow())
    return _move(application, "in_review", user, note)


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
