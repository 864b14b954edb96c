"""Forms of the platform-admin area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ActivateForm(FlaskForm):
    reason = TextAreaField(_l("启用理由（记入审计日志）"), validators=[
        DataRequired(_l("请写明启用理由。")), Length(max=500, message=_l("不能超过 500 个字符。"))])
