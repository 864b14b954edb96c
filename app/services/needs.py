"""Financing needs (融资需求) posted by firms."""
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed
from app.common.money import format_wan
from app.common.vocab import GUARANTEE_TYPES, URGENCIES
from app.entities import FinancingNeed

from .submissions import insert_once, posted_with

MAX_PURPOSE = 500


def validate_amount(amount_yuan, field="amount"):
    """Refuse a zero, negative or implausibly large amount (in 元)."""
    limit = current_app.config["MAX_NEED_AMOUNT_YUAN"]
    if amount_yuan is None:
        raise InvalidInput(_("请输入金额（万元）。"), field)
    if amount_yuan <= 0:
        raise InvalidInput(_("金额必须大于 0。"), field)
    if amount_yuan > limit:
        raise InvalidInput(_("金额不能超过 %(wan)s 万元。", wan=format_wan(limit)), field)


def validate_term(months, field="term_months"):
    """Refuse a term outside 1 month to the configured maximum."""
    limit = current_app.config["MAX_TERM_MONTHS"]
    if months is None or months < 1 or months > limit:
        raise InvalidInput(_("期限应在 1 到 %(n)d 个月之间。", n=limit), field)


def posted_with_token(session, subject_id, form_token):
    """The need a subject's need form with `form_token` posted, or None."""
    return posted_with(session, FinancingNeed, subject_id, form_token)


def post_need(session, subject, user, amount_yuan, term_months, purpose, guarantee,
              max_rate=None, urgency="normal", form_token=None):
    """Stage a new open financing need of `subject` after checking every field.

    The same form submitted again (same `form_token`) returns the need it posted.
    """
    earlier = posted_with_token(session, subject.id, form_token)
    if earlier is not None:
        return earlier
    validate_amount(amount_yuan)
    validate_term(term_months)
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(_("请填写资金用途。"), "purpose")
    if len(purpose) > MAX_PURPOSE:
        raise InvalidInput(_("资金用途不能超过 %(n)d 个字符。", n=MAX_PURPOSE), "purpose")
    if guarantee not in GUARANTEE_TYPES:
        raise InvalidInput(_("请选择可提供的担保方式。"), "guarantee")
    if max_rate is not None and not (Decimal(0) < max_rate <= Decimal(100)):
        raise InvalidInput(_("可承受年化利率应在 0 到 100% 之间。"), "max_rate")
    if urgency not in URGENCIES:
        raise InvalidInput(_("请选择紧急程度。"), "urgency")
    need = FinancingNeed(subject=subject, created_by_id=user.id, amount=amount_yuan,
                         term_months=term_months, purpose=purpose, guarantee=guarantee,
                         max_rate=max_rate, urgency=urgency, status="open", form_token=form_token or None)
    # Two submits of one form at once: the token's unique index lets one through.
    return insert_once(session, need, _("该需求已发布，请勿重复提交。"))


def needs_of(session, subject_id):
    """A subject's needs, newest first."""
    query = (select(FinancingNeed).where(FinancingNeed.subject_id == subject_id)
             .order_by(FinancingNeed.created_at.desc(), FinancingNeed.id.desc()))
    return session.scalars(query).all()


def withdraw_need(need):
    """Withdraw an open need."""
    if need.status != "open":
        raise NotAllowed(_("只有进行中的需求可以撤回。"))
    need.status = "withdrawn"
