"""The error a service raises when the user's input breaks a rule."""


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
