"""Forms of the lender area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from app.firm.forms import GUARANTEES
from app.services.applications import DECLINE_REASONS
from app.views import as_choices


class CheckboxesField(SelectMultipleField):
    """A multiple choice drawn as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _months(label):
    return IntegerField(label, validators=[
        InputRequired(_l("请输入期限（月）。")),
        NumberRange(min=1, max=360, message=_l("期限应在 1 到 360 个月之间。"))])


class ProductForm(FlaskForm):
    name = StringField(_l("产品名称"), validators=[
        DataRequired(_l("请输入产品名称。")), Length(max=120, message=_l("产品名称不能超过 120 个字符。"))])
    description = TextAreaField(_l("产品说明"), validators=[
        Length(max=2000, message=_l("产品说明不能超过 2000 个字符。"))])
    amount_min_wan = StringField(_l("最低额度（万元）"), validators=[DataRequired(_l("请输入金额（万元）。"))])
    amount_max_wan = StringField(_l("最高额度（万元）"), validators=[DataRequired(_l("请输入金额（万元）。"))])
    term_min = _months(_l("最短期限（月）"))
    term_max = _months(_l("最长期限（月）"))
    rate_min = StringField(_l("最低年化利率（%）"), validators=[DataRequired(_l("请输入利率（%）。"))])
    rate_max = StringField(_l("最高年化利率（%）"), validators=[DataRequired(_l("请输入利率（%）。"))])
    guarantee_types = CheckboxesField(_l("接受的担保方式"), choices=as_choices(GUARANTEES))


class ApproveForm(FlaskForm):
    amount_wan = StringField(_l("批准金额（万元）"), validators=[DataRequired(_l("请输入金额（万元）。"))])
    rate = StringField(_l("年化利率（%）"), validators=[DataRequired(_l("请输入利率（%）。"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=500, message=_l("说明不能超过 500 个字符。"))])


class DeclineForm(FlaskForm):
    reasons = CheckboxesField(_l("拒绝原因（1–4 项）"), choices=as_choices(DECLINE_REASONS.items()))
    note = TextAreaField(_l("补充说明"), validators=[Length(max=500, message=_l("说明不能超过 500 个字符。"))])


class InfoRequestForm(FlaskForm):
    note = TextAreaField(_l("需要补充的材料"), validators=[
        DataRequired(_l("请写明需要补充的材料。")), Length(max=500, message=_l("不能超过 500 个字符。"))])
