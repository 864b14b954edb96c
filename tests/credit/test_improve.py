"""What would improve a firm's grade: only actionable features, and the score really rises."""
import pytest
from sqlalchemy import select

from app.common.region import town_codes
from app.credit.features import BY_NAME
from app.credit.improve import ACTIONABLE, moves, steps, suggest
from app.credit.scoring import subject_row
from app.entities import CreditSubject
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from app.services import models

from ..conftest import ACTIONABLE_VERSION

TOWNS = town_codes("610203")


def test_steps_only_move_toward_the_safer_side():
    assert steps("util_late_12m", 3.0) == [2.0, 1.0, 0.0]
    assert steps("tax_arrears_wan", 1.5) == [0.0]
    assert steps("util_days_late_max_12m", 40.0) == [30.0, 15.0, 0.0]
    assert steps("si_paid_ratio_12m", 0.92) == [0.95, 1.0]
    assert steps("util_late_12m", 0.0) == [] and steps("si_paid_ratio_12m", float("nan")) == []


def test_only_actionable_features_are_offered():
    assert set(ACTIONABLE) == {name for name, feature in BY_NAME.items() if feature.actionable}
    assert not {"firm_age_years", "town", "industry_division", "subject_kind"} & set(ACTIONABLE)


@pytest.fixture
def rows(app, small_district, model_registry):
    """(scorer of the actionable version, feature rows of every subject of the small district)."""
    root, _trained = model_registry
    ingest_paths(db.session, export_files(small_district), TOWNS)
    ids = db.session.scalars(select(CreditSubject.id).order_by(CreditSubject.id)).all()
    feature_rows = [subject_row(db.session, sid, "2026-11-27", TOWNS)[0] for sid in ids]
    return models.scorer(root, ACTIONABLE_VERSION), feature_rows


def _reaches(grade, target, names):
    return target is not None and names.index(grade) <= names.index(target)


def test_each_suggestion_changes_only_actionable_features_and_really_raises_the_score(rows):
    scorer, feature_rows = rows
    names = list(scorer.bundle.scale.grade_names)
    suggested = 0
    for row in feature_rows:
        improvement = suggest(scorer, row)
        assert improvement.score == scorer.score_row(row)["score"]
        for suggestion in improvement.suggestions:
            suggested += 1
            for change in suggestion.changes:
                assert change.feature in ACTIONABLE and change.before == row[change.feature]
                assert (change.after - change.before) * BY_NAME[change.feature].monotone < 0
            rescored = scorer.score_row(suggestion.apply(row))
            assert rescored["score"] == suggestion.score > improvement.score
            assert rescored["grade"] == suggestion.grade
            assert suggestion.reaches_target == _reaches(rescored["grade"], improvement.target_grade, names)
    assert suggested > 0


def test_a_change_that_reaches_the_next_grade_comes_first_and_is_the_smallest_that_does(rows):
    scorer, feature_rows = rows
    names = list(scorer.bundle.scale.grade_names)
    checked = 0
    for row in feature_rows:
        improvement = suggest(scorer, row)
        if not improvement.suggestions or not improvement.suggestions[0].reaches_target:
            continue
        assert all(s.reaches_target for s in improvement.suggestions if len(s.changes) == 1) or \
            improvement.suggestions[0].reaches_target
        for suggestion in (s for s in improvement.suggestions if s.reaches_target and len(s.changes) == 1):
            change = suggestion.changes[0]
            nearer = [v for v in steps(change.feature, change.before)
                      if abs(v - change.before) < abs(change.after - change.before)]
            for value in nearer:
                grade = scorer.score_row({**row, change.feature: value})["grade"]
                assert not _reaches(grade, improvement.target_grade, names)
            checked += 1
    assert checked > 0


# What a firm does itself: pays taxes, social insurance and bills on time (recent and three-year figures).
PAYMENT_BEHAVIOUR = {"tax_late_filings_12m", "tax_arrears_wan", "tax_arrears_months_12m", "tax_late_share_36m",
                     "tax_arrears_months_36m", "si_arrears_months_12m", "si_paid_ratio_12m", "si_arrears_latest",
                     "util_late30_6m", "util_late_12m", "util_days_late_max_12m", "util_late_per_month_36m",
                     "util_late30_months_36m"}


def test_most_subjects_whose_top_reason_is_their_own_conduct_get_a_suggestion(rows):
    """A reason the firm can act on (three-year late bills included) comes with something to do about it;
    a missing source (无社保缴费数据) is not conduct to change."""
    scorer, feature_rows = rows
    tops = [(row, scorer.score_row(row)["reasons"]) for row in feature_rows]
    actionable = [row for row, reasons in tops
                  if reasons and reasons[0]["feature"] in PAYMENT_BEHAVIOUR and reasons[0]["value"] is not None]
    helped = [row for row in actionable if suggest(scorer, row).suggestions]
    assert len(actionable) >= 10
    assert len(helped) >= 0.8 * len(actionable), (len(helped), len(actionable))


def test_a_three_year_figure_moves_with_the_recent_count_it_holds_and_never_below_it():
    row = {name: 0.0 for name in ACTIONABLE} | {"util_late_12m": 3.0, "util_late_per_month_36m": 9 / 36,
                                                 "util_billed_months_36m": 36.0, "tax_filed_months_36m": 30.0}
    found = {move[0].feature: move for move in moves(row) if move[0].after == 0 or move[0].feature != "util_late_12m"}
    recent = found["util_late_12m"]
    assert [(c.feature, round(c.after * 36, 9), c.implied) for c in recent] == [
        ("util_late_12m", 0.0, False), ("util_late_per_month_36m", 6.0, True)]
    history = [move[0].after * 36 for move in moves(row) if move[0].feature == "util_late_per_month_36m"]
    assert [round(v) for v in history] == [8, 7, 6, 5, 4, 3]  # the 3 late bills of the last year stay
