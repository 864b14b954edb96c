"""The expected AUC (outcomes drawn from the true PD) and the bootstrap interval of the oracle ratio."""
import numpy as np
import pytest

from app.credit.metrics import auc
from training import metrics


def test_expected_auc_is_the_mean_auc_over_outcomes_drawn_from_the_true_pd():
    rng = np.random.default_rng(0)
    pd_true = rng.beta(1, 15, 1500)
    score = np.round(pd_true + rng.normal(0, 0.02, 1500), 2)  # with ties
    drawn = [auc((rng.random(1500) < pd_true).astype(int), score) for _ in range(400)]
    assert metrics.expected_auc(score, pd_true) == pytest.approx(np.mean(drawn), abs=0.005)
    assert metrics.expected_auc(pd_true, pd_true) > metrics.expected_auc(score, pd_true)


def test_expected_auc_of_certain_outcomes_is_the_plain_auc():
    pd_true = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    score = np.array([0.1, 0.7, 0.9, 0.3, 0.2])
    assert metrics.expected_auc(score, pd_true) == pytest.approx(auc(pd_true.astype(int), score))


def test_bootstrap_ratio_brackets_the_ratio():
    rng = np.random.default_rng(1)
    pd_true = rng.beta(1, 10, 800)
    y = (rng.random(800) < pd_true).astype(int)
    noisy = pd_true + rng.normal(0, 0.05, 800)
    low, high = metrics.bootstrap_ratio(y, noisy, pd_true, draws=200)
    assert low <= auc(y, noisy) / auc(y, pd_true) <= high


def test_group_calibration_on_a_constructed_case():
    groups = np.array(["农户"] * 4 + ["企业"] * 6 + [None] * 2, dtype=object)
    y = np.array([1, 0, 0, 0] + [0, 0, 0, 0, 0, 1] + [0, 1])
    p = np.array([0.10, 0.10, 0.20, 0.20] + [0.05] * 6 + [0.3, 0.5])
    truth = np.array([0.20, 0.20, 0.10, np.nan] + [0.10] * 6 + [np.nan, np.nan])
    rows = {r["group"]: r for r in metrics.group_calibration("subject_kind", groups, y, p, truth)}
    assert set(rows) == {"农户", "企业", "unknown"}
    farm = rows["农户"]
    assert (farm["dimension"], farm["n"]) == ("subject_kind", 4)
    assert farm["predicted_pd"] == pytest.approx(0.15)
    assert farm["realised_pd"] == pytest.approx(0.25)
    assert farm["oracle_pd"] == pytest.approx(0.5 / 3)  # the rows whose true PD is known
    assert farm["ratio_to_oracle"] == pytest.approx(0.15 / (0.5 / 3))
    assert rows["企业"]["ratio_to_oracle"] == pytest.approx(0.5)
    assert rows["unknown"]["oracle_pd"] is None and rows["unknown"]["ratio_to_oracle"] is None
    assert [r["oracle_pd"] for r in metrics.group_calibration("town", groups, y, p)] == [None] * 3
