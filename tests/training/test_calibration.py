"""Calibration of a trained model (issue 16): the slope from the validation period, the level from every
labelled loan before the holdout, and nothing from the holdout."""
import json

import numpy as np
import pandas as pd
import pytest

from training.train import calibrate, level_intercept, platt


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class ColumnBooster:
    """Stands in for a LightGBM booster whose raw score is the frame's `score` column."""

    best_iteration = 7

    def predict(self, X, raw_score=False, num_iteration=None):
        assert raw_score and num_iteration == self.best_iteration
        return X["score"].to_numpy(dtype=float)


def book(seed=0, n=6000):
    """Loans oldest first: train (60 %), validation (20 %), holdout (20 %); the true log-odds are
    1.5 × score − 3, but the validation period's loans default less often than that by chance
    (as one period's few hundred defaults do)."""
    rng = np.random.default_rng(seed)
    score = rng.normal(0, 1, n)
    y = (rng.random(n) < sigmoid(1.5 * score - 3)).astype(int)
    train = np.arange(n) < 0.6 * n
    valid = (np.arange(n) >= 0.6 * n) & (np.arange(n) < 0.8 * n)
    hold = ~(train | valid)
    lucky = valid & (y == 1) & (rng.random(n) < 0.3)  # 30 % of the validation period's defaults did not happen
    y[lucky] = 0
    return pd.DataFrame({"score": score}), y, train, valid, hold


def test_level_intercept_matches_the_default_rate():
    rng = np.random.default_rng(1)
    raw = rng.normal(-1, 2, 5000)
    y = (rng.random(5000) < 0.07).astype(int)
    for slope in (0.5, 1.0, 1.7):
        a = level_intercept(raw, y, slope)
        assert sigmoid(slope * raw + a).mean() == pytest.approx(y.mean(), rel=1e-9)
    assert level_intercept(raw, y, 1.0) < level_intercept(raw, np.maximum(y, rng.random(5000) < 0.05), 1.0)
    with pytest.raises(ValueError):
        level_intercept(raw, np.zeros(5000), 1.0)


def test_slope_from_validation_and_level_from_every_loan_before_the_holdout():
    X, y, train, valid, _hold = book()
    calibration, raw_valid = calibrate(ColumnBooster(), X, y, train, valid)
    alone = platt(X["score"][valid], y[valid])
    assert np.array_equal(raw_valid, X["score"][valid].to_numpy())
    assert calibration["slope"] == pytest.approx(alone["slope"])
    assert calibration["validation_intercept"] == pytest.approx(alone["intercept"])
    seen = train | valid
    p = sigmoid(calibration["slope"] * X["score"][seen] + calibration["intercept"])
    assert p.mean() == pytest.approx(y[seen].mean(), rel=1e-9)
    assert calibration["level"] == {"loans": int(seen.sum()), "bad": int(y[seen].sum())}
    # the validation period's luck moves the level far less than it moves validation-only Platt
    truth = sigmoid(1.5 * X["score"][seen] - 3).mean()
    validation_only = sigmoid(alone["slope"] * X["score"][seen] + alone["intercept"]).mean()
    assert abs(np.log(p.mean() / truth)) < 0.5 * abs(np.log(validation_only / truth))


def test_the_holdout_is_never_read():
    X, y, train, valid, hold = book(seed=2)
    before, _ = calibrate(ColumnBooster(), X, y, train, valid)
    flipped, scrambled = y.copy(), X.copy()
    flipped[hold] = 1 - flipped[hold]
    scrambled.loc[hold, "score"] = 50.0
    after, _ = calibrate(ColumnBooster(), scrambled, flipped, train, valid)
    assert after == before
    y2 = y.copy()
    y2[np.flatnonzero(train & (y == 0))[:40]] = 1  # a training-period outcome does move the level
    moved, _ = calibrate(ColumnBooster(), X, y2, train, valid)
    assert moved["slope"] == before["slope"] and moved["intercept"] > before["intercept"]


def test_a_trained_version_records_and_shows_where_its_calibration_came_from(trained_model):
    result, out = trained_model
    folder = out / result["version"]
    metadata = json.loads((folder / "metadata.json").read_text())
    calibration = metadata["calibration"]
    counts = metadata["label_counts"]["department"]
    holdout = json.loads((folder / "metrics.json").read_text())["holdout"]["loans"]
    # every labelled loan before the holdout sets the level, and no holdout loan
    assert calibration["level"]["loans"] == counts["good"] + counts["bad"] - holdout
    assert {"slope", "intercept", "validation_intercept"} <= set(calibration)
    card = (folder / "card.md").read_text()
    assert f"on all {calibration['level']['loans']:,} training and validation loans" in card
