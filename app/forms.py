"""What the blueprints' forms share: the CSRF-only action form, forms that move an application a
step or post once, checkbox lists, choices from a vocabulary, service checks run as field
validators, and service errors shown on their field."""
from uuid import uuid4

from flask import flash, redirect, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.common.errors import InvalidInput, NotAllowed
from app.extensions import db


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
