"""Forms of the regulator area: answers to objections, repair decisions, list entries and exits, notes on
compliance flags."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.common.vocab import OBJECTION_DECISIONS, REPAIR_DECISIONS
from app.forms import as_choices
from app.services.compliance import MAX_NOTE
from app.services.lists import MAX_TEXT

# A correction's cells come as fields named with this prefix and the source's column name.
CELL_PREFIX = "cell_"


def _text(label, message):
    return TextAreaField(label, validators=[DataRequired(message), Length(
        max=MAX_TEXT, message=_l("不能超过 %(n)d 个字符。", n=MAX_TEXT))])


class ObjectionAnswerForm(FlaskForm):
    decision = RadioField(_l("处理结果"), choices=as_choices(OBJECTION_DECISIONS.choices()), validators=[Optional()])
    response = _text(_l("答复（将告知企业）"), _l("请填写答复理由。"))


class RepairDecisionForm(FlaskForm):
    decision = RadioField(_l("审核结果"), choices=as_choices(REPAIR_DECISIONS.choices()),
                          validators=[InputRequired(_l("请选择是否同意修复。"))])
    note = _text(_l("审核意见（将告知企业）"), _l("请填写审核意见。"))


class ListEntryForm(FlaskForm):
    subject_code = StringField(_l("统一社会信用代码或农户编码"), validators=[DataRequired(_l("请填写信用主体代码。"))])
    list_kind = SelectField(_l("名单"), validators=[DataRequired(_l("请选择名单。"))])
    reason = _text(_l("列入事由"), _l("请填写列入事由。"))
    listed_on = DateField(_l("列入日期"), validators=[Optional()])
    ends_on = DateField(_l("名单期限至（可不填）"), validators=[Optional()])


class ListExitForm(FlaskForm):
    reason = _text(_l("移出理由"), _l("请填写移出理由。"))
    removed_on = DateField(_l("移出日期（默认今天）"), validators=[Optional()])


class AcknowledgeForm(FlaskForm):
    """The regulator's note on a compliance flag: what was found out or done."""

    note = TextAreaField(_l("处理说明"), validators=[
        InputRequired(_l("请填写处理说明。")),
        Length(max=MAX_NOTE, message=_l("处理说明不能超过 %(max)d 个字符。"))])
