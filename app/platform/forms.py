"""Forms of the platform-admin area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.services.activation import MAX_REASON


class ActivateForm(FlaskForm):
    reason = TextAreaField(_l("启用理由（记入审计日志）"), validators=[
        DataRequired(_l("请写明启用理由。")),
        Length(max=MAX_REASON, message=_l("启用理由不能超过 %(n)d 个字符。", n=MAX_REASON))])
