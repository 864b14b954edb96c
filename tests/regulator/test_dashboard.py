"""The regulator's dashboard: every breakdown renders with its charts' table views; exports equal the tables;
only the regulator sees it."""
import csv
from datetime import datetime
from io import BytesIO, StringIO

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.services import market_figures

from .. import factories
from ..conftest import logged_in_client, page_text
from ..services.test_market_figures import build_market


@pytest.fixture()
def regulator(app, world):
    build_market(needs=40)
    return logged_in_client(app, world["users"]["regulator"])


@pytest.mark.parametrize("segment", list(market_figures.SEGMENTS))
def test_every_breakdown_renders_with_its_charts_and_tables(regulator, segment):
    response = regulator.get(f"/regulator/?by={segment}")
    page = page_text(response)
    assert response.status_code == 200
    for table in ("t-funnel", "t-months", "t-segments"):
        assert f'id="{table}"' in page and f'data-table="{table}"' in page
    assert "vendor/echarts-6.1.0/echarts.min.js" in page and "融资漏斗" in page and "首贷户" in page


def test_an_unknown_breakdown_is_a_clear_400(regulator):
    response = regulator.get("/regulator/?by=__class__")
    assert response.status_code == 400 and "请求" in page_text(response)


def test_the_exports_hold_the_tables_figures(regulator):
    board = market_figures.dashboard(db.session, "town")
    title, headers, rows = market_figures.table(board, "segments")
    response = regulator.get("/regulator/figures/segments.csv?by=town")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    written = list(csv.reader(StringIO(text)))
    assert written[0] == headers and len(written) == len(rows) + 1
    assert [row[0] for row in written[1:]] == [row[0] for row in rows]
    funnel = load_workbook(BytesIO(regulator.get("/regulator/figures/funnel.xlsx").get_data())).active
    values = list(funnel.iter_rows(values_only=True))
    assert values[1:] == [(label, count, wan) for _s, label, count, wan in board.funnel]
    assert regulator.get("/regulator/figures/secrets.csv").status_code == 404
    assert regulator.get("/regulator/figures/funnel.html").status_code == 404


@pytest.mark.parametrize("role", ["firm", "officer", "lender_admin", "data_admin", "platform_admin"])
def test_no_one_else_sees_the_dashboard_or_its_exports(app, world, role):
    client = logged_in_client(app, world["users"][role])
    assert client.get("/regulator/").status_code in (403, 404)
    assert client.get("/regulator/figures/funnel.csv").status_code in (403, 404)


def test_the_model_monitoring_page(app, world, tmp_path):
    from ..services.test_monitoring import active_version, add_scores

    client = logged_in_client(app, world["users"]["regulator"])
    assert "尚无启用的模型" in page_text(client.get("/regulator/models"))
    version = active_version(app, tmp_path)
    subjects = [factories.SubjectFactory() for _ in range(40)]
    add_scores(version, subjects, range(560, 600), datetime(2026, 10, 3))
    db.session.commit()
    page = page_text(client.get("/regulator/models"))
    assert "评分稳定性（PSI）" in page and "2026-10" in page and 'id="t-calibration"' in page
    assert "该模型首次使用时的评分分布（40 个主体" in page
    assert logged_in_client(app, world["users"]["officer"]).get("/regulator/models").status_code in (403, 404)


def test_a_second_regulator_reads_the_kept_figures_in_their_own_language(app, world):
    """The figures are kept between views, but their words are not: an English reader after a Chinese one (the
    market unchanged) gets the funnel's stages and the segments' names in English, and the Chinese reader after
    them in Chinese."""
    build_market(needs=40)
    chinese = logged_in_client(app, world["users"]["regulator"])
    english = logged_in_client(app, factories.UserFactory(role="regulator", locale="en"))
    db.session.commit()
    assert "有匹配产品" in page_text(chinese.get("/regulator/?by=subject_kind"))
    page = page_text(english.get("/regulator/?by=subject_kind"))
    assert "Matched" in page and "Farmer" in page
    assert "有匹配产品" not in page and "农户" not in page
    page = page_text(chinese.get("/regulator/?by=subject_kind"))
    assert "有匹配产品" in page and "农户" in page and "Farmer" not in page


def test_the_dashboard_says_when_its_figures_were_read(regulator):
    page = page_text(regulator.get("/regulator/"))
    assert "数据截至 " in page
