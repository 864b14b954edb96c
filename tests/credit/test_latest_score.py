"""Which stored score is a subject's latest (app.credit.scoring): the last computed, ties to the later row."""
from datetime import timedelta

from sqlalchemy import select

from app.credit.scoring import first_per_subject, latest_per_subject, latest_score, score_history
from app.entities import CreditScore
from app.entities.base import utcnow
from app.extensions import db

from .. import factories


def _scores(subject, *minutes_ago):
    """Scores of `subject` computed the given minutes ago, in the order given (ids rising)."""
    now = utcnow().replace(microsecond=0)
    made = [factories.add_score(subject, "B", 0.04) for _ in minutes_ago]
    for score, minutes in zip(made, minutes_ago, strict=True):
        score.computed_at = now - timedelta(minutes=minutes)
    db.session.commit()
    return made


def _per_subject(subquery):
    return dict(db.session.execute(select(subquery.c.subject_id, subquery.c.id)).all())


def test_the_latest_is_the_last_computed_even_when_stored_earlier(app):
    subject = factories.SubjectFactory()
    later, earlier = _scores(subject, 5, 60)
    assert latest_score(db.session, subject.id) == later
    assert _per_subject(latest_per_subject()) == {subject.id: later.id}
    assert _per_subject(first_per_subject()) == {subject.id: earlier.id}
    assert score_history(db.session, subject.id) == [earlier, later]


def test_of_scores_computed_at_the_same_moment_the_later_row_is_the_latest(app):
    subject = factories.SubjectFactory()
    first, second, third = _scores(subject, 5, 5, 5)
    assert latest_score(db.session, subject.id) == third
    assert _per_subject(latest_per_subject()) == {subject.id: third.id}
    assert _per_subject(first_per_subject()) == {subject.id: first.id}
    assert score_history(db.session, subject.id) == [first, second, third]


def test_a_subject_without_a_score_has_none_and_no_line(app):
    scored, unscored = factories.SubjectFactory(), factories.SubjectFactory()
    (score,) = _scores(scored, 1)
    assert latest_score(db.session, unscored.id) is None
    assert score_history(db.session, unscored.id) == []
    assert _per_subject(latest_per_subject()) == {scored.id: score.id}


def test_the_latest_among_the_rows_meeting_the_conditions(app):
    one, two = factories.SubjectFactory(), factories.SubjectFactory()
    old_one, new_one = _scores(one, 60, 5)
    (only_two,) = _scores(two, 30)
    new_one.grade = "A"
    db.session.commit()
    assert _per_subject(latest_per_subject(CreditScore.subject_id == one.id)) == {one.id: new_one.id}
    assert _per_subject(latest_per_subject(CreditScore.grade == "B")) == {one.id: old_one.id, two.id: only_two.id}
    assert _per_subject(latest_per_subject(CreditScore.subject_id == -1)) == {}
