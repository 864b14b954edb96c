"""What the market says about products: the odds calibration is kept between refits."""
from datetime import datetime, timedelta

from app.common import clock
from app.entities import Application
from app.extensions import db
from app.services import market

from ..factories import put_in_status

NOON = datetime(2026, 3, 2, 4)


def _decide(world, status="declined"):
    put_in_status(world, status)
    world["application"].decided_at = NOON - timedelta(days=1)
    db.session.commit()


def test_the_calibration_is_kept_until_the_decisions_change_checked_every_few_minutes(app, world):
    app.config["MATCH_ODDS_REFRESH_SECONDS"] = 300
    with clock.frozen(NOON):
        first = market.calibration(db.session)
    _decide(world)
    with clock.frozen(NOON + timedelta(minutes=4)):
        assert market.calibration(db.session) is first  # not checked again yet
    with clock.frozen(NOON + timedelta(minutes=6)):
        refitted = market.calibration(db.session)
    assert refitted is not first
    with clock.frozen(NOON + timedelta(minutes=20)):
        assert market.calibration(db.session) is refitted  # checked: nothing changed


def test_without_a_refresh_interval_every_decision_is_seen_at_once(app, world):
    assert app.config["MATCH_ODDS_REFRESH_SECONDS"] == 0
    first = market.calibration(db.session)
    _decide(world)
    assert db.session.get(Application, world["application"].id).status == "declined"
    assert market.calibration(db.session) is not first


def test_a_clock_set_back_refits_rather_than_trusting_a_future_stamp(app, world):
    app.config["MATCH_ODDS_REFRESH_SECONDS"] = 300
    with clock.frozen(NOON):
        first = market.calibration(db.session)
    _decide(world)
    with clock.frozen(NOON - timedelta(days=30)):
        assert market.calibration(db.session) is not first
