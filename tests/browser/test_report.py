"""The firm downloads its credit report in a real browser at desk and phone widths; the PDF's text, read
by pdftotext (poppler) where installed, else by PDFium, holds the firm's name, grade and reasons.
Screenshots and the downloaded PDFs are kept under test-artefacts/browser/ (not committed)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from app.credit.reasons import reason_sentence
from app.extensions import db

from .. import factories
from ..conftest import pdf_text

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
WIDTHS = {"desk": 1280, "phone": 390}
REASONS = [{"feature": "util_late_12m", "value": 3.0, "contribution": 0.3},
           {"feature": "tax_arrears_wan", "value": 1.5, "contribution": 0.2}]


def text_of(path):
    """The PDF's text as pdftotext gives it (as the issue asks), or as PDFium reads it without poppler."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return pdf_text(path.read_bytes())


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_firm_downloads_its_report_with_name_grade_and_reasons(browser, live_server, world, width):
    score = factories.add_score(world["firm"], "B", 0.05)
    score.reasons = REASONS
    db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTHS[width], "height": 860},
                                  accept_downloads=True)
    page = context.new_page()
    outside = []
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:")) else outside.append(r.url))
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "firm")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/firm/score")
    link = page.locator("a[href='/firm/report.pdf']")
    assert link.is_visible() and page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"firm-score-report-link-{width}.png"), full_page=True)
    with page.expect_download() as download:
        link.click()
    # Per backend: pytest-xdist may run the SQLite and the PostgreSQL case at once, and each reads its file back.
    saved = ARTEFACTS / f"firm-report-{width}-{db.engine.dialect.name}.pdf"
    download.value.save_as(str(saved))
    context.close()
    assert download.value.suggested_filename.endswith(".pdf")
    text = " ".join(text_of(saved).split())
    assert world["firm"].name in text
    assert "信用等级 B" in text
    for reason in REASONS:
        assert reason_sentence(reason)[0].replace(" ", "") in text.replace(" ", "")
    assert outside == []
