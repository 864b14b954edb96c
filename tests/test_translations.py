"""The English catalog covers every message, keeps every placeholder, and is used."""
import re

from babel.messages.pofile import read_po

from app.config import APP_DIR

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def catalog():
    with open(APP_DIR / "translations" / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_message_has_an_english_translation_with_the_same_placeholders():
    for message in catalog():
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id}"
        assert not message.fuzzy, f"fuzzy: {message.id}"
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), message.id


def test_catalog_is_up_to_date_with_the_templates():
    """Every Chinese string passed to _() in a template is in the catalog."""
    known = {m.id for m in catalog() if m.id}
    used = set()
    for path in (APP_DIR / "templates").rglob("*.html"):
        used |= set(re.findall(r"_\('([^']+)'", path.read_text(encoding="utf-8")))
    assert used - known == set()
