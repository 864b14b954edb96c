"""The README and docs/ stand alone: a reader with only a clone finds every page they name."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_name_nothing_outside_the_repository(page):
    assert not re.search(r"\.\./(shared|[A-Za-z_-]+\.md)", page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_named_doc_exists(page):
    named = set(re.findall(r"\bdocs/[\w.-]+\.md\b", page.read_text(encoding="utf-8")))
    assert [name for name in sorted(named) if not (ROOT / name).exists()] == []
