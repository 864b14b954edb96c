"""Approval odds: calibrated by grade level, shrunk towards the market, and honest on later decisions."""
import numpy as np
import pytest

from app.matching.odds import HISTORY, NONE, SCORE, Decisions, OddsCalibration, reliability

LEVELS = 6  # A–E and unscored
TRUE_RATE = np.array([0.92, 0.8, 0.6, 0.4, 0.2, 0.5])


def simulated(count, seed=7, product_effect=None):
    """Decisions whose approval depends on the grade level (and per product, when given)."""
    rng = np.random.default_rng(seed)
    product = rng.integers(1, 5, count)
    level = rng.integers(0, LEVELS, count)
    rate = TRUE_RATE[level] + (product_effect[product] if product_effect is not None else 0)
    return Decisions(product=product, institution=product * 10, level=level,
                     approved=rng.random(count) < np.clip(rate, 0, 1),
                     day=np.datetime64("2024-01-01") + rng.integers(0, 700, count).astype("timedelta64[D]"))


def test_odds_follow_each_products_own_history_by_grade():
    effect = np.array([0, 0.05, -0.15, 0, 0])
    fitted = OddsCalibration(LEVELS).fit(simulated(20_000, product_effect=effect))
    odds, basis, evidence = fitted.table(np.array([1, 2]), np.array([10, 20]))
    assert list(basis) == [HISTORY, HISTORY] and (evidence > 1000).all()
    assert odds[0] == pytest.approx(np.clip(TRUE_RATE + 0.05, 0, 1), abs=0.04)
    assert odds[1] == pytest.approx(TRUE_RATE - 0.15, abs=0.04)


def test_without_enough_decisions_a_product_gets_the_market_rate_of_its_grade():
    fitted = OddsCalibration(LEVELS, min_decisions=30).fit(simulated(5_000))
    odds, basis, _evidence = fitted.table(np.array([99]), np.array([990]))
    assert basis[0] == SCORE
    assert odds[0] == pytest.approx(TRUE_RATE, abs=0.05)


def test_with_no_market_history_the_odds_are_unknown():
    fitted = OddsCalibration(LEVELS).fit(simulated(10))
    odds, basis, _evidence = fitted.table(np.array([1]), np.array([10]))
    assert basis[0] == NONE and np.isnan(odds).all()


def test_institution_history_counts_for_its_products():
    decisions = simulated(3_000)
    decisions.product[:] = -1  # ingested records name only the institution
    fitted = OddsCalibration(LEVELS).fit(decisions)
    _odds, basis, evidence = fitted.table(np.array([7]), np.array([10]))
    assert basis[0] == HISTORY and evidence[0] == int((decisions.institution == 10).sum())


def test_reliability_table_shows_calibrated_odds_are_honest():
    report = reliability(simulated(40_000, seed=3), LEVELS)
    assert report["test"] == 10_000 and report["predicted"] == 10_000
    assert report["ece"] < 0.03
    assert report["honest_share"] >= 0.75
    for row in report["bins"]:
        assert abs(row["observed"] - row["predicted"]) < 0.06


def test_reliability_exposes_miscalibrated_odds():
    decisions = simulated(40_000, seed=4)
    later = decisions.day >= np.datetime64("2025-06-01")
    decisions.approved[later] = False  # the market froze: earlier odds are now far too high
    report = reliability(decisions, LEVELS)
    assert report["ece"] > 0.3
    assert report["honest_share"] < 0.5
