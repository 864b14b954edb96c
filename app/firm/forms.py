"""Forms of the firm area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.common.vocab import GUARANTEE_TYPES, URGENCIES
from app.forms import as_choices


class NeedForm(FlaskForm):
    amount_wan = StringField(_l("需求金额（万元）"), validators=[DataRequired(_l("请输入金额（万元）。"))])
    term_months = IntegerField(_l("期限（月）"), validators=[
        InputRequired(_l("请输入期限（月）。")),
        NumberRange(min=1, max=360, message=_l("期限应在 1 到 360 个月之间。"))])
    purpose = TextAreaField(_l("资金用途"), validators=[
        DataRequired(_l("请填写资金用途。")), Length(max=500, message=_l("资金用途不能超过 500 个字符。"))])
    guarantee = SelectField(_l("可提供的担保方式"), choices=as_choices(GUARANTEE_TYPES.choices()))
    max_rate = StringField(_l("可承受的最高年化利率（%，可不填）"))
    urgency = SelectField(_l("紧急程度"), choices=as_choices(URGENCIES.choices()))


class ApplyForm(FlaskForm):
    consent = BooleanField(_l("我已阅读并同意上述授权"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("补充说明"), validators=[
        DataRequired(_l("请填写补充说明。")), Length(max=500, message=_l("补充说明不能超过 500 个字符。"))])


class ReviewForm(FlaskForm):
    description = TextAreaField(_l("需要人工复核的理由"), validators=[
        DataRequired(_l("请说明理由。")), Length(max=1000, message=_l("不能超过 1000 个字符。"))])


class ObjectionForm(FlaskForm):
    record_id = SelectField(_l("有异议的数据"), coerce=int, validate_choice=False)
    description = TextAreaField(_l("异议说明（哪里不对，应当是什么）"), validators=[
        DataRequired(_l("请说明理由。")), Length(max=1000, message=_l("不能超过 1000 个字符。"))])
