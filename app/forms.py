"""What the blueprints' forms share: the CSRF-only action form, checkbox lists, choices from a
vocabulary, and service errors shown on the field they concern."""
from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget


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


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class CheckboxesField(SelectMultipleField):
    """A multiple choice drawn as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
