"""AUC, KS and PSI: agreement with the textbook figures, and each edge case's defined answer."""
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from app.credit.metrics import PSI_EMPTY_SHARE, auc, ks, psi


@pytest.fixture
def loans():
    """(outcomes, scores) of 2,000 loans whose scores have many ties."""
    rng = np.random.default_rng(4)
    pd_true = rng.beta(1, 12, 2000)
    return (rng.random(2000) < pd_true).astype(int), np.round(pd_true + rng.normal(0, 0.03, 2000), 2)


def test_auc_is_the_roc_area_with_ties_counting_half(loans):
    y, score = loans
    assert auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert auc([0, 1, 0, 1], [0.2, 0.2, 0.1, 0.3]) == pytest.approx(0.875)  # 3.5 of 4 pairs


def test_ks_is_the_largest_gap_of_the_roc_curve(loans):
    y, score = loans
    false_positive, true_positive, _ = roc_curve(y, score)
    assert ks(y, score) == pytest.approx(np.max(true_positive - false_positive), abs=1e-12)


def test_tied_rows_are_never_split_by_a_ks_threshold():
    # Cutting between the two rows scoring 0.5 would claim a gap of 1; no threshold can do that.
    assert ks([1, 0], [0.5, 0.5]) == 0
    assert ks([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx(0.5)


@pytest.mark.parametrize("y, score, expected_auc, expected_ks", [
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0, 1.0),
    ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0, 0.0),
    ([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3], 0.5, 0.0),
], ids=["perfect", "inverted", "constant-scores"])
def test_auc_and_ks_of_perfect_inverted_and_constant_scores(y, score, expected_auc, expected_ks):
    assert auc(y, score) == pytest.approx(expected_auc)
    assert ks(y, score) == pytest.approx(expected_ks)


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1], [True, True], []], ids=["all-good", "all-bad", "booleans", "empty"])
def test_auc_and_ks_are_nan_without_both_classes(y):
    # The loan-book leakage check's old copy answered 0.5 here, as if the column ranked at random.
    score = np.linspace(0, 1, len(y))
    assert math.isnan(auc(y, score))
    assert math.isnan(ks(y, score))


@pytest.mark.parametrize("y, score", [
    ([0, 1, 0], [0.1, float("nan"), 0.3]),
    ([0, float("nan"), 1], [0.1, 0.2, 0.3]),
    ([0, 2, 1], [0.1, 0.2, 0.3]),
    ([0, 1], [0.1, 0.2, 0.3]),
], ids=["nan-score", "nan-outcome", "outcome-not-0-or-1", "lengths-differ"])
def test_auc_and_ks_refuse_inputs_they_cannot_rank(y, score):
    for figure in (auc, ks):
        with pytest.raises(ValueError):
            figure(y, score)


def test_psi_of_the_same_distribution_is_zero():
    scores = np.arange(100.0)
    assert psi(scores, scores) == 0
    assert psi(scores, scores[::-1]) == 0


def test_psi_sums_the_shift_of_each_decile_bin():
    reference = np.arange(100.0)  # ten per decile bin
    current = np.concatenate([np.full(20, 5.0), np.arange(20.0, 100.0)])  # bin 2 emptied into bin 1
    expected = 0.1 * math.log(2) + (PSI_EMPTY_SHARE - 0.1) * math.log(PSI_EMPTY_SHARE / 0.1)
    assert psi(reference, current) == pytest.approx(expected)


def test_an_empty_psi_bin_counts_as_one_in_ten_thousand():
    # The training copy floored empty bins at 1e-6, where one empty bin alone read as a PSI of 1.15.
    reference = np.arange(100.0)
    current = np.arange(10.0, 100.0)  # the lowest decile bin empty, the others a ninth each
    ninth = 1 / 9
    expected = (PSI_EMPTY_SHARE - 0.1) * math.log(PSI_EMPTY_SHARE / 0.1) + 9 * (ninth - 0.1) * math.log(ninth / 0.1)
    assert psi(reference, current) == pytest.approx(expected)
    assert psi(reference, current) < 0.75


def test_a_pile_at_the_reference_minimum_makes_no_bin_below_it():
    # 30 % of the reference scores the minimum 0; 5 % of today's scores fall just below it. The
    # platform's old copy cut a bin under 0 that the reference could not fill and read a PSI of 0.32.
    reference = np.concatenate([np.zeros(30), np.arange(1.0, 71.0)])
    current = np.concatenate([np.full(5, -1.0), np.zeros(25), np.arange(1.0, 71.0)])
    assert psi(reference, current) == pytest.approx(0.0)


def test_a_value_on_a_cut_falls_in_the_bin_above_it():
    reference = np.arange(100.0)
    cut = np.quantile(reference, 0.5)  # 49.5: the bins [39.6, 49.5) and [49.5, 59.4) meet there
    current = np.where((reference >= 45) & (reference < cut), cut, reference)  # 5 % moved onto the cut
    expected = (0.05 - 0.1) * math.log(0.05 / 0.1) + (0.15 - 0.1) * math.log(0.15 / 0.1)
    assert psi(reference, current) == pytest.approx(expected)


@pytest.mark.parametrize("reference, current", [
    ([700.0] * 50, [650.0] * 50),
    ([0.0] * 95 + [1.0] * 5, [1.0] * 100),
    ([], [1.0, 2.0]),
    ([1.0, 2.0, 3.0], []),
], ids=["constant-reference", "deciles-all-equal", "empty-reference", "empty-current"])
def test_psi_is_nan_when_the_reference_cannot_be_cut_into_bins(reference, current):
    assert math.isnan(psi(reference, current))


def test_psi_refuses_nan_scores():
    with pytest.raises(ValueError):
        psi([1.0, 2.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError):
        psi([1.0, 2.0, 3.0], [float("nan")])
