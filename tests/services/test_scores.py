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


def test_the_charts_bars_name_the_peers_a_level_and_its_percentile_are_read_against():
    """The chart's bar of a level says where it stands among the subject's peers, as its reason does; a
    percentile's bar names the peers (before: "同类主体", and the level bare)."""
    reasons = [{"feature": "elec_kwh_12m", "value": 2006.0, "contribution": 0.4, "peer": ["farmer", None],
                "peer_pctl": 20.0}]
    chart = {"base": -3.0, "other": 0.0, "items": [["elec_kwh_12m", 0.4, 2006.0], ["revenue_peer_pctl", 0.2, 90.0],
                                                   ["si_insured", -0.1, 2.0], ["insured_peer_pctl", -0.05, 35.0]]}
    bars = {bar["feature"]: bar["zh"] for bar in
            chart_geometry(SimpleNamespace(reasons=reasons, contributions=chart))["bars"]}
    assert bars["elec_kwh_12m"] == "近12个月用电量 2,006 千瓦时，低于同类农户的 80%"
    assert bars["revenue_peer_pctl"] == "营业收入高于同类农户的 90%"
    assert bars["si_insured"] == "社保参保人数 2 人，低于同类农户的 65%"  # its percentile is another bar
