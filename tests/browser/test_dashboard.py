"""The regulator's dashboard in a real browser: every chart is drawn from its table with data (an SVG with
shapes, not an empty box), in Chinese and in English, without CSP refusals or outside requests. Screenshots
are kept under test-artefacts/browser/ (not committed)."""
from pathlib import Path

import pytest

from ..factories import PASSWORD
from ..services.test_market_figures import build_market

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


def log_in(page, username):
    page.goto(f"{page.base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_chart_of_the_dashboard_is_drawn_with_data(world, page, width):
    build_market(needs=40)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "regulator")
    page.goto(f"{page.base}/regulator/?by=town")
    figures = page.locator("figure.chart")
    assert figures.count() >= 5  # funnel, two of the months, two of the breakdown (and unmet demand when any)
    page.wait_for_function(f"document.querySelectorAll('figure.chart-drawn').length === {figures.count()}")
    for n in range(figures.count()):
        # Bars, lines and funnel pieces are SVG paths: a chart of data draws many.
        assert figures.nth(n).locator("svg path").count() > 5, n
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"regulator-dashboard-{width}.png"), full_page=True)
    assert page.outside_requests == [] and page.csp_violations == []


def test_the_dashboard_in_english(world, page):
    build_market(needs=20)
    log_in(page, "regulator")
    page.goto(f"{page.base}/lang/en?next=/regulator/")
    page.goto(f"{page.base}/regulator/")
    page.wait_for_function("document.querySelectorAll('figure.chart-drawn').length >= 4")
    text = page.locator("main").inner_text()
    assert "Financing funnel" in text and "First-time borrowers" in text and "融资漏斗" not in text
    assert page.csp_violations == []
