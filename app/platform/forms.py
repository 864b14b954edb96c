"""Forms of the platform-admin area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.common.vocab import ROLES
from app.forms import AccountForm, as_choices
from app.services.activation import MAX_REASON


class ActivateForm(FlaskForm):
    reason = TextAreaField(_l("启用理由（记入审计日志）"), validators=[
        DataRequired(_l("请写明启用理由。")),
        Length(max=MAX_REASON, message=_l("启用理由不能超过 %(n)d 个字符。", n=MAX_REASON))])
    # Only for a version that loses to its own baseline or to the active version (audited).
    override = TextAreaField(_l("强制启用理由（仅当该版本不如基准或启用中版本时填写，记入审计日志）"), validators=[
        Optional(), Length(max=MAX_REASON, message=_l("启用理由不能超过 %(n)d 个字符。", n=MAX_REASON))])


class StaffForm(AccountForm):
    role = SelectField(_l("角色"), choices=as_choices((code, label) for code, label in ROLES.choices()
                                                      if code != "firm"))
    institution_id = SelectField(_l("所属机构（金融机构人员）"), coerce=int, validate_choice=False)
