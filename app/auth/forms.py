"""Forms of the auth area; services do the business checks."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.common.vocab import SUBJECT_KINDS
from app.forms import as_choices
from app.services.accounts import MAX_DISPLAY_NAME, MAX_USERNAME
from app.services.subjects import MAX_NAME, MAX_VILLAGE


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))])


class RegisterForm(FlaskForm):
    kind = SelectField(_l("主体类型"), choices=as_choices(SUBJECT_KINDS.choices()))
    name = StringField(_l("主体名称"), validators=[
        DataRequired(_l("请输入主体名称。")),
        Length(max=MAX_NAME, message=_l("主体名称不能超过 %(n)d 个字符。", n=MAX_NAME))])
    # A farmer without a household code leaves it blank and gives the head's ID number and village.
    code = StringField(_l("统一社会信用代码 / 农户编码"), validators=[Optional()])
    town_code = SelectField(_l("所在乡镇（街道）"))
    village = StringField(_l("所在村（社区）（无农户编码的农户填写）"), validators=[
        Optional(), Length(max=MAX_VILLAGE, message=_l("村（社区）名称不能超过 %(n)d 个字符。", n=MAX_VILLAGE))])
    id_number = StringField(_l("户主身份证号码（无农户编码的农户填写）"), validators=[Optional()])
    established_on = DateField(_l("成立日期"), validators=[Optional()])
    display_name = StringField(_l("联系人姓名"), validators=[
        DataRequired(_l("请输入联系人姓名。")),
        Length(max=MAX_DISPLAY_NAME, message=_l("姓名不能超过 %(n)d 个字符。", n=MAX_DISPLAY_NAME))])
    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请输入用户名。")),
        Length(max=MAX_USERNAME, message=_l("用户名不能超过 %(n)d 个字符。", n=MAX_USERNAME))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))])
    confirm = PasswordField(_l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致。"))])


class JoinForm(FlaskForm):
    code = StringField(_l("邀请码"), validators=[DataRequired(_l("请输入邀请码。"))])
    id_number = StringField(_l("法定代表人身份证号码（平台管理员发放的邀请码需要）"), validators=[Optional()])
    display_name = StringField(_l("姓名"), validators=[
        DataRequired(_l("请输入姓名。")),
        Length(max=MAX_DISPLAY_NAME, message=_l("姓名不能超过 %(n)d 个字符。", n=MAX_DISPLAY_NAME))])
    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请输入用户名。")),
        Length(max=MAX_USERNAME, message=_l("用户名不能超过 %(n)d 个字符。", n=MAX_USERNAME))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))])
    confirm = PasswordField(_l("确认密码"), validators=[EqualTo("password", _l("两次输入的密码不一致。"))])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))])
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。"))])
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致。"))])
