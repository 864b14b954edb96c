"""The reader's language: Chinese first, English when the user chose it."""
from flask_babel import get_locale


def english():
    """Whether the current reader chose English."""
    return str(get_locale()) == "en"
