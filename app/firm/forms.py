"""Forms of the firm area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.common.vocab import GUARANTEE_TYPES, URGENCIES
from app.forms import OnceForm, ServiceCheck, StepForm, amount_field, as_choices, percent_field
from app.services.applications import MAX_NOTE
from app.services.needs import MAX_PURPOSE, validate_term
from app.services.objections import MAX_TEXT


class NeedForm(OnceForm):
    amount_wan = amount_field(_l("需求金额（万元）"), [InputRequired(_l("请输入金额（万元）。"))])
    term_months = IntegerField(_l("期限（月）"), validators=[
        InputRequired(_l("请输入期限（月）。")), ServiceCheck(validate_term)])
    purpose = TextAreaField(_l("资金用途"), validators=[
        DataRequired(_l("请填写资金用途。")),
        Length(max=MAX_PURPOSE, message=_l("资金用途不能超过 %(n)d 个字符。", n=MAX_PURPOSE))])
    guarantee = SelectField(_l("可提供的担保方式"), choices=as_choices(GUARANTEE_TYPES.choices()))
    max_rate = percent_field(_l("可承受的最高年化利率（%，可不填）"))
    urgency = SelectField(_l("紧急程度"), choices=as_choices(URGENCIES.choices()))


class ApplyForm(OnceForm):
    consent = BooleanField(_l("我已阅读并同意上述授权"))


class NoteForm(StepForm):
    note = TextAreaField(_l("补充说明"), validators=[
        DataRequired(_l("请填写补充说明。")),
        Length(max=MAX_NOTE, message=_l("请填写补充说明（不超过 %(n)d 字）。", n=MAX_NOTE))])


class DeclineOfferForm(StepForm):
    note = TextAreaField(_l("放弃原因（可不填）"), validators=[
        Length(max=MAX_NOTE, message=_l("说明不能超过 %(n)d 个字符。", n=MAX_NOTE))])


def _reason(label):
    """The firm's reason for a review or an objection (as long as the objection service accepts)."""
    return TextAreaField(label, validators=[
        DataRequired(_l("请说明理由。")),
        Length(max=MAX_TEXT, message=_l("请说明理由（不超过 %(n)d 字）。", n=MAX_TEXT))])


class ReviewForm(FlaskForm):
    description = _reason(_l("需要人工复核的理由"))


class ObjectionForm(FlaskForm):
    record_id = SelectField(_l("有异议的数据"), coerce=int, validate_choice=False)
    description = _reason(_l("异议说明（哪里不对，应当是什么）"))


class RepairForm(FlaskForm):
    record_id = SelectField(_l("申请修复的行政处罚"), coerce=int, validate_choice=False)
    description = _reason(_l("修复说明（已履行的义务、已纠正的行为）"))
