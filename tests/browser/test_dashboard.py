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
    # Waiting by selector, not by a JavaScript predicate (the CSP forbids eval, which that would need).
    page.locator("figure.chart-drawn").nth(figures.count() - 1).wait_for()
    assert page.locator("figure.chart-drawn").count() == figures.count()
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
    page.locator("figure.chart-drawn").nth(3).wait_for()
    text = page.locator("main").inner_text()
    assert "Financing funnel" in text and "First-time borrowers" in text and "融资漏斗" not in text
    assert page.csp_violations == []


def test_the_monitoring_charts_are_drawn(world, page, app, tmp_path):
    from datetime import datetime

    from app.extensions import db

    from ..factories import SubjectFactory
    from ..services.test_monitoring import active_version, add_scores

    version = active_version(app, tmp_path)
    subjects = [SubjectFactory() for _ in range(40)]
    add_scores(version, subjects, range(560, 600), datetime(2026, 9, 3))
    add_scores(version, subjects, range(580, 620), datetime(2026, 10, 3), grade="B")
    db.session.commit()
    log_in(page, "regulator")
    page.goto(f"{page.base}/regulator/models")
    count = page.locator("figure.chart").count()
    assert count == 6  # two of stability, calibration, three of fairness
    # No loan has an outcome yet: the calibration chart says nothing rather than draw an empty frame.
    page.locator("figure.chart-drawn").nth(4).wait_for()
    assert page.locator("figure.chart-drawn").count() == 5 and page.locator("figure.chart-empty").count() == 1
    assert page.locator("figure.chart-drawn").first.locator("svg path").count() > 3
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "regulator-monitoring.png"), full_page=True)
    assert page.csp_violations == [] and page.outside_requests == []
