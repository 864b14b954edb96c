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
