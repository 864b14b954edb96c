"""What the blueprints' forms share: the CSRF-only action form, forms that move an application a
step or post once, checkbox lists, choices from a vocabulary, bounded number fields for money and
rates, service checks run as field validators, and service errors shown on their field."""
from decimal import Decimal
from uuid import uuid4

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.common.errors import InvalidInput, NotAllowed
from app.common.money import parse_number, yuan_to_wan
from app.errors import refuse
from app.extensions import db
from app.services import messages
from app.services.accounts import MAX_DISPLAY_NAME, MAX_USERNAME

# Rates and fees are percentages a year: above 100 % is a typing error (the legal cap is far lower).
MAX_RATE_PCT = Decimal(100)


def as_choices(pairs):
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_error(form, error):
    """Attach an InvalidInput to its form field (or flash it) so the user sees why."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def submit_step(form, application, action, done_message, endpoint):
    """Run `action(application, version the page showed)`: a refusal is flashed and nothing is
    written, else the step is committed; either way back to the application's page at `endpoint`."""
    try:
        action(application, form.version.data)
    except (InvalidInput, NotAllowed) as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done_message, "success")
    return redirect(url_for(endpoint, application_id=application.id))


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class AccountForm(FlaskForm):
    """A new staff account made by an administrator: the password is generated and shown once."""

    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请输入用户名。")),
        Length(max=MAX_USERNAME, message=_l("用户名不能超过 %(n)d 个字符。", n=MAX_USERNAME))])
    display_name = StringField(_l("姓名"), validators=[
        DataRequired(_l("请输入姓名。")),
        Length(max=MAX_DISPLAY_NAME, message=_l("姓名不能超过 %(n)d 个字符。", n=MAX_DISPLAY_NAME))])


class StepForm(FlaskForm):
    """A form that moves an application a step; it carries the version of the application the page
    showed, so a step someone else took in the meantime is refused instead of overwritten."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class OnceForm(FlaskForm):
    """A form that creates a record; each rendering carries a one-time token, so submitting it twice
    (a double click, a reload) creates one."""

    form_token = HiddenField(default=lambda: uuid4().hex)


class CheckboxesField(SelectMultipleField):
    """A multiple choice drawn as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ServiceCheck:
    """A field validator that runs a service's check (which raises InvalidInput) on the field's data.

    The check runs at validation time, so its limit (often a setting) and its message are the
    service's own: the form and the service cannot disagree.
    """

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        try:
            self.check(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class NumberField(StringField):
    """A number typed as text (万元 or %), read by `app.common.money.parse_number` within the field's
    bounds: `data` is a Decimal, or None when blank.

    Text that is no number, or a number out of range, is the field's error (also kept in `error`, for
    the forms that hand their figures to a service without validating), never an exception. `bounds`
    is called when the form is submitted, so a limit that is a setting is read then.
    """

    def __init__(self, label=None, validators=None, *, what, bounds, unit="", low_open=True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what, self.bounds, self.unit, self.low_open = what, bounds, unit, low_open
        self.error = None

    def process_formdata(self, valuelist):
        self.data, self.error = None, None
        low, high = self.bounds()
        try:
            self.data = parse_number(valuelist[0] if valuelist else None, str(self.what), low, high,
                                     unit=str(self.unit), low_open=self.low_open)
        except InvalidInput as error:
            self.error = error.message

    def pre_validate(self, form):
        if self.error:
            raise StopValidation(self.error)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def _amount_bounds():
    return Decimal(0), yuan_to_wan(current_app.config["MAX_NEED_AMOUNT_YUAN"])


def _percent_bounds():
    return Decimal(0), MAX_RATE_PCT


def amount_field(label, validators=(), *, zero=False):
    """An amount in 万元, above 0 (or from 0 with `zero`) up to the largest need (MAX_NEED_AMOUNT_YUAN)."""
    return NumberField(label, list(validators), what=_l("金额"), bounds=_amount_bounds, unit=_l(" 万元"),
                       low_open=not zero)


def percent_field(label, validators=(), *, what=None, zero=False):
    """A rate or fee in % a year, above 0 (or from 0 with `zero`) up to MAX_RATE_PCT."""
    return NumberField(label, list(validators), what=what or _l("利率"), bounds=_percent_bounds, unit="%",
                       low_open=not zero)


def number_of(form, name, default=None):
    """The Decimal of a NumberField, `default` when blank; InvalidInput (on that field) when it is not a
    number in range."""
    field = getattr(form, name)
    if field.error:
        raise InvalidInput(field.error, name)
    return default if field.data is None else field.data


def query_code(name, vocabulary, what):
    """The code the query string gives for `name` (None when absent or blank). A code `vocabulary` does
    not hold is answered 400 with a message naming it: a filter is never silently not applied."""
    value = request.args.get(name) or None
    if value is not None and value not in vocabulary:
        refuse(400, _("%(what)s没有“%(value)s”这一项，请从列表中选择。", what=what, value=value[:40]))
    return value


class MessageForm(FlaskForm):
    """A message of 银企线上沟通问答, with an optional attachment; the firm may let its answer be published
    in the FAQ. The firm's and the lender's pages share it (the service checks the text and the file)."""

    body = TextAreaField(_l("消息内容"), validators=[DataRequired(_l("请填写消息内容。")),
                                                    ServiceCheck(lambda text: messages.clean_body(text))])
    attachment = FileField(_l("附件（可不选；PDF、PNG、JPEG、Word .docx、Excel .xlsx）"))
    publish = BooleanField(_l("同意将本回答连同机构的提问匿名公开到常见问答（不含企业和机构名称）"))


class ContactForm(FlaskForm):
    """Where notifications are also sent: an e-mail address and a mobile number, each may be blank."""

    email = StringField(_l("电子邮箱（可不填）"), validators=[Optional()])
    phone = StringField(_l("手机号码（可不填）"), validators=[Optional()])
