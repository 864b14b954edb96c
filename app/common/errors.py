"""The errors a service raises when the user's input breaks a rule, and the user's language of the
engines' (Chinese, English) message pairs."""
from flask_babel import get_locale


class InvalidInput(Exception):
    """Input the platform refuses; `message` is already in the user's language."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class NotAllowed(Exception):
    """An action the current state or role does not allow (a 409 or 403 for the caller)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = str(message)


def in_user_language(message, message_en):
    """The Chinese or the English text of an engine's message pair, as the user reads."""
    return message_en if str(get_locale()) == "en" else message
