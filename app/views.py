"""Small helpers the blueprints share: choices for select fields, service errors on forms."""
from flask import flash
from wtforms.fields.choices import SelectChoice


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
