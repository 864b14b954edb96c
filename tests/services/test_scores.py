"""Where a score sits among its peers: the latest score of each firm of the same town and industry division."""
from datetime import timedelta
from types import SimpleNamespace

from app.entities.base import utcnow
from app.extensions import db
from app.services.scores import chart_geometry, peer_standing

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



def test_the_charts_bars_name_the_peers_a_percentile_and_a_health_estimate_are_read_against():
    """The chart's bars name the subject's peers as its reasons do (before: "同类主体" on every bar)."""
    reasons = [{"feature": "health_index", "value": -0.9, "contribution": 0.4, "peer": ["farmer", None]}]
    chart = {"base": -3.0, "other": 0.0, "items": [["health_index", 0.4, -0.9], ["revenue_peer_pctl", 0.2, 90.0],
                                                   ["health_index_change_6m", -0.1, 0.39]]}
    bars = {bar["feature"]: bar["zh"] for bar in
            chart_geometry(SimpleNamespace(reasons=reasons, contributions=chart))["bars"]}
    assert bars["health_index"] == "综合收入、用电和参保人数估计的经营状况低于约 82% 的同类农户"
    assert bars["revenue_peer_pctl"] == "营业收入高于同类农户的 90%"
    assert bars["health_index_change_6m"] == "经营状况较半年前回升，幅度为同类农户间差异的 39%"
