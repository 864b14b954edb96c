"""The lender's ranking: each applicant's latest score, shown only under the consent the other pages use."""
from datetime import timedelta

from sqlalchemy import select

from app.entities import DataAccessLog
from app.entities.base import utcnow
from app.extensions import db
from app.services import ranking
from app.services.consents import consent_in_force

from .. import factories


def _rows(world):
    return ranking.ranked_applicants(db.session, world["bank_a"].id)


def test_the_ranking_shows_the_latest_score_ties_going_to_the_later_row(app, world):
    older = factories.add_score(world["firm"], "C", 0.08)
    older.computed_at = utcnow() - timedelta(days=1)
    first, second = factories.add_score(world["firm"], "B", 0.04), factories.add_score(world["firm"], "A", 0.01)
    second.computed_at = first.computed_at
    db.session.commit()
    assert [row.score.id for row in _rows(world)] == [second.id]


def test_an_applicant_without_a_score_is_listed_without_one(app, world):
    (row,) = _rows(world)
    assert row.application == world["application"] and row.score is None
    assert row.consent_id == world["consent"].id


def test_the_view_is_logged_under_the_consent_the_application_page_uses(app, world):
    # A newer but shorter consent: the old ranking logged under it, the application page under the longer one.
    factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                             valid_to=utcnow() + timedelta(days=5))
    factories.add_score(world["firm"], "B", 0.04)
    db.session.commit()
    rows = _rows(world)
    page_consent = consent_in_force(db.session, world["firm"].id, world["bank_a"].id)
    assert page_consent == world["consent"]
    assert [row.consent_id for row in rows] == [page_consent.id]
    ranking.log_views(db.session, world["users"]["officer"], rows)
    db.session.commit()
    assert db.session.scalars(select(DataAccessLog.consent_id)).all() == [page_consent.id]
