"""Where a score sits among its peers: the latest score of each firm of the same town and industry division."""
from datetime import timedelta

from app.entities.base import utcnow
from app.extensions import db
from app.services.scores import peer_standing

from .. import factories


def _scored(points, town="610203100", industry="3074", minutes_ago=0):
    subject = factories.SubjectFactory(town_code=town, industry_code=industry)
    score = factories.add_score(subject, "B", 0.04)
    score.score, score.computed_at = points, utcnow() - timedelta(minutes=minutes_ago)
    return subject, score


def test_peers_are_ranked_by_their_latest_score_ties_counting_half(app):
    subject, score = _scored(600)
    peer, _old = _scored(900, industry="3071", minutes_ago=60)
    factories.add_score(peer, "C", 0.08).score = 500  # its latest: below 600
    _scored(600, industry="3079")  # a tie: half below
    _scored(100, town="610203101")  # another town
    _scored(100, industry="3171")  # another division
    db.session.commit()
    assert peer_standing(db.session, subject, score) == {"count": 2, "percentile": 75, "division": "30",
                                                         "town": "610203100"}


def test_a_firm_without_scored_peers_has_no_percentile(app):
    subject, score = _scored(600)
    factories.SubjectFactory(town_code="610203100", industry_code="3074")  # a peer never scored
    db.session.commit()
    assert peer_standing(db.session, subject, score)["count"] == 0
    assert peer_standing(db.session, subject, score)["percentile"] is None
