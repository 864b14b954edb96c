"""Forms of the regulator area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from app.services.compliance import MAX_NOTE


class AcknowledgeForm(FlaskForm):
    """The regulator's note on a compliance flag: what was found out or done."""

    note = TextAreaField(_l("处理说明"), validators=[
        InputRequired(_l("请填写处理说明。")),
        Length(max=MAX_NOTE, message=_l("处理说明不能超过 %(max)d 个字符。"))])
