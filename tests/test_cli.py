"""The `flask platform|scores …` commands."""
import json

from sqlalchemy import select

from app.entities import ScoringRun
from app.extensions import db
from app.services import accounts


def test_scores_refresh_records_a_run_and_prints_its_figures(app, scored_world):
    result = app.test_cli_runner().invoke(args=["scores", "refresh", "--subject", str(scored_world["subject_id"])])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    run = db.session.scalars(select(ScoringRun)).one()
    assert (run.trigger, run.status, run.subjects_scored) == ("cli", "done", 1)
    assert figures["run"] == run.id and figures["scored"] == 1 and figures["model_version"] == run.model_version


def test_scores_refresh_without_a_model_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["scores", "refresh"])
    assert result.exit_code != 0 and "no usable model" in result.output


def test_platform_demo_prints_each_login_with_the_name_the_site_shows(app):
    result = app.test_cli_runner().invoke(args=["platform", "demo"])
    assert result.exit_code == 0, result.output
    firm_line = next(line for line in result.output.splitlines() if " firm_demo " in line)
    shown = accounts.find_user(db.session, "firm_demo").display_name
    assert shown in firm_line
