"""Approval odds: by product and grade level, shrunk towards the institution and the grade, honest later."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.matching.odds import INSTITUTION, NONE, PRODUCT, SCORE, Decisions, OddsCalibration, reliability

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
    assert list(basis) == [PRODUCT, PRODUCT] and (evidence > 1000).all()
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


def one_product(approved, declined, level=2):
    """Decisions of product 1 (institution 10) at one level."""
    count = approved + declined
    return Decisions(product=np.ones(count, dtype=np.int64), institution=np.full(count, 10),
                     level=np.full(count, level), approved=np.arange(count) < approved,
                     day=np.full(count, np.datetime64("2025-01-01")))


def joined(*parts):
    return Decisions(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("product", "institution", "level", "approved", "day")))


def market(count=3_000):
    """A market of other institutions' decisions (products 2–5 of institutions 20–50)."""
    decisions = simulated(count, seed=11)
    decisions.product[:] += 1
    decisions.institution[:] = decisions.product * 10
    return decisions


@pytest.mark.parametrize(("own", "near"), [(3, "grade"), (300, "own")])
def test_a_products_own_rate_counts_by_how_many_decisions_it_has(own, near):
    grade_c = TRUE_RATE[2]
    fitted = OddsCalibration(LEVELS, min_decisions=1).fit(joined(market(), one_product(0, own)))
    odds, basis, evidence = fitted.table(np.array([1]), np.array([10]))
    assert basis[0] == PRODUCT and evidence[0] == own
    if near == "grade":  # 3 declines move the grade's rate a quarter of the way (m = 10) towards 0
        assert odds[0, 2] == pytest.approx(grade_c * 10 / 13, abs=0.04)
    else:
        assert odds[0, 2] < 0.03
    assert odds[0, 0] == pytest.approx(fitted.base_[0], abs=1e-9)  # no decisions at grade A: the grade's rate


def test_a_product_with_few_decisions_shows_the_grade_rate_as_such():
    fitted = OddsCalibration(LEVELS).fit(joined(market(), one_product(0, 3)))
    odds, basis, evidence = fitted.table(np.array([1]), np.array([10]))
    assert basis[0] == SCORE and evidence[0] == 3
    assert odds[0] == pytest.approx(fitted.base_)


def test_a_new_product_falls_back_to_its_institutions_other_products():
    fitted = OddsCalibration(LEVELS).fit(joined(market(), one_product(0, 200)))
    odds, basis, evidence = fitted.table(np.array([7, 8]), np.array([10, 99]))
    assert list(basis) == [INSTITUTION, SCORE] and evidence[0] == 200
    assert odds[0, 2] < 0.1 and odds[1, 2] == pytest.approx(fitted.base_[2])


def test_own_decisions_count_once_in_the_products_odds():
    # The institution's rate behind a product leaves the product out: an institution with one
    # product gives it the grade's rate as prior, not its own rate twice.
    fitted = OddsCalibration(LEVELS, min_decisions=1).fit(joined(market(), one_product(0, 10)))
    odds, _basis, _evidence = fitted.table(np.array([1]), np.array([10]))
    assert odds[0, 2] == pytest.approx(fitted.base_[2] * 10 / 20)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.integers(0, 2), st.integers(0, LEVELS - 1), st.booleans()),
                max_size=120), st.integers(0, 40), st.integers(0, 40))
def test_odds_are_probabilities(rows, min_decisions, strength):
    """Whatever the decisions, known odds lie in [0, 1] and unknown ones are NaN."""
    rows = [(-1, place, level, approved) if product < 0 else (product, product % 3, level, approved)
            for product, place, level, approved in rows]  # a product belongs to one institution
    columns = [np.array([r[k] for r in rows], dtype=np.int64) for k in range(4)]
    decisions = Decisions(*columns[:3], columns[3].astype(bool), np.full(len(rows), np.datetime64("2025-01-01")))
    fitted = OddsCalibration(LEVELS, min_decisions, min_decisions, strength + 1).fit(decisions)
    products = np.arange(5)
    odds, basis, _evidence = fitted.table(products, products % 3)
    known = basis != NONE
    assert np.isnan(odds[~known]).all()
    assert ((odds[known] >= 0) & (odds[known] <= 1)).all()


def test_institution_history_counts_for_its_products():
    decisions = simulated(3_000)
    decisions.product[:] = -1  # ingested records name only the institution
    fitted = OddsCalibration(LEVELS).fit(decisions)
    _odds, basis, evidence = fitted.table(np.array([7]), np.array([10]))
    assert basis[0] == INSTITUTION and evidence[0] == int((decisions.institution == 10).sum())


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
    assert [r["product"] for r in report["products"]] == [1, 2, 3, 4]
    assert all(r["enough"] and not r["honest"] and r["observed"] == 0 for r in report["products"])


def test_reliability_by_product_judges_each_product_on_its_later_decisions():
    effect = np.array([0, 0, -0.3, 0, 0])
    decisions = joined(simulated(8_000, seed=5, product_effect=effect), one_product(3, 2))
    decisions.day[-5:] = np.datetime64("2030-01-01")  # product 1's five are all in the held-out quarter
    decisions.product[-5:] = 9  # a new product of institution 10, known only by its institution
    report = reliability(decisions, LEVELS, min_checked=20)
    rows = {r["product"]: r for r in report["products"]}
    assert set(rows) == {1, 2, 3, 4, 9}
    assert all(rows[p]["enough"] and rows[p]["honest"] and rows[p]["n"] > 400 for p in (1, 2, 3, 4))
    assert rows[2]["predicted"] < rows[1]["predicted"] - 0.2  # product 2's own lower rate was learnt
    assert rows[9] | {"n": 5, "train": 0, "enough": False, "basis": INSTITUTION} == rows[9]
