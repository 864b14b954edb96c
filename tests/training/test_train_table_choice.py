"""train_table's plain logistic candidate, the blend of three, and the one-standard-error choice."""
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from app.common.checksums import file_sha256
from app.credit.metrics import auc
from training.table import models
from training.table.artifact import load_model, save_model
from training.table.linear import PlainLogistic
from training.table.scorecard import BinnedLogisticScorecard


def linear_book(n, seed):
    """Risk linear in two numbers and one category level; a heavy-tailed amount that carries none; some blanks."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(3)})
    frame["amount"] = np.exp(rng.normal(11, 1, n))
    frame["kind"] = pd.Categorical(rng.choice(list("abcd"), n), categories=list("abcd"))
    logit = -1.0 + 1.5 * frame["x0"] + 0.8 * frame["x1"] + 0.8 * (frame["kind"] == "b")
    bad = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    frame.loc[rng.random(n) < 0.05, "x1"] = np.nan
    return frame, bad


@pytest.mark.parametrize("seed", [0, 1])
def test_the_plain_logistic_keeps_the_order_that_bins_throw_away(seed):
    """On an 800-row book whose risk is linear, the plain logistic ranks 20,000 fresh rows better than the
    five-bin scorecard (by about 0.02), since it sees where a number lies within its quintile."""
    features, bad = linear_book(800, seed)
    fresh, fresh_bad = linear_book(20_000, 999)
    plain = models.fit_one(models.PLAIN, features, bad)
    card = models.fit_one(models.LOGISTIC, features, bad)
    assert isinstance(plain, PlainLogistic) and isinstance(card, BinnedLogisticScorecard)
    assert auc(fresh_bad, plain.predict_proba(fresh)[:, 1]) > auc(fresh_bad, card.predict_proba(fresh)[:, 1]) + 0.01


def test_the_plain_logistic_scores_blanks_and_unseen_levels_and_survives_json():
    """A blank number gets the training median and its own flag; a level never seen in training scores as blank."""
    features, bad = linear_book(600, 4)
    model = PlainLogistic().fit(features, bad)
    row = features.iloc[[0, 0, 0]].reset_index(drop=True)
    row["kind"] = pd.Categorical(["zz", None, "a"], categories=["zz", "a"])
    unseen, blank, seen = model.decision_function(row)
    assert unseen == pytest.approx(blank) and seen != pytest.approx(blank)
    filled = features.iloc[[0, 0]].reset_index(drop=True)
    filled.loc[0, "x1"], filled.loc[1, "x1"] = np.nan, model.numbers_["x1"]["fill"]
    flagged, at_median = model.decision_function(filled)
    assert flagged - at_median == pytest.approx(model.coef_[2])  # x0, then x1 and its blank flag
    again = PlainLogistic.from_dict(model.to_dict())
    np.testing.assert_allclose(again.predict_proba(features), model.predict_proba(features))


def test_the_plain_logistic_keeps_a_category_of_thousands_of_levels_sparse():
    """A 3,000-level column (a branch, a village) on 30,000 rows: the design holds one entry per row for it,
    not 3,001 (dense, a million-row book with such a column needs tens of GB), and scores as the levels say."""
    rng = np.random.default_rng(5)
    n, places = 30_000, [f"p{i}" for i in range(3_000)]
    frame = pd.DataFrame({"x0": rng.normal(size=n),
                          "place": pd.Categorical(rng.choice(places, n), categories=places)})
    bad = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + frame["x0"] + 1.0 * (frame["place"].cat.codes < 300))))).astype(int)
    model = PlainLogistic(C=1.0).fit(frame, bad.to_numpy())
    design = model._design(frame)
    assert design.shape == (n, 1 + 3_001) and design.nnz <= 2 * n
    assert design.data.nbytes < 1_000_000  # dense: 30,000 × 3,002 × 8 bytes = 720 MB
    assert auc(bad.to_numpy(), model.predict_proba(frame)[:, 1]) > 0.7


def test_the_blend_weighs_the_trees_as_much_as_both_logistics():
    """Half the tuned LightGBM, a quarter each logistic: two near-duplicate linear models do not outvote the trees."""
    features, bad = linear_book(600, 5)
    blend = models.fit_one(models.BLEND, features, bad)
    parts = [part.predict_proba(features)[:, 1] for part in blend.models]
    expected = 0.5 * parts[0] + 0.25 * parts[1] + 0.25 * parts[2]
    np.testing.assert_allclose(blend.predict_proba(features)[:, 1], expected)
    assert [type(part).__name__ for part in blend.models] == ["TunedLightGBM", "BinnedLogisticScorecard",
                                                              "PlainLogistic"]


def _folds(**means_and_scatter):
    """Per-fold AUCs: a shared fold effect (folds differ in how hard they are) plus each candidate's own noise,
    scaled so that every candidate's mean is exactly 0.75 + its mean and its noise's spread exactly its scatter."""
    rng = np.random.default_rng(7)
    hard = rng.normal(0, 0.03, 15)
    hard -= hard.mean()
    found = {}
    for name, (mean, scatter) in means_and_scatter.items():
        noise = rng.normal(size=15)
        found[name] = list(0.75 + hard + mean + scatter * (noise - noise.mean()) / noise.std())
    return found


def test_the_blend_is_kept_when_the_best_mean_beats_it_by_less_than_one_standard_error():
    """The top mean (the scorecard, +0.002) is within the folds' scatter of the blend: the blend is used.
    Picking the top mean, as before, would have taken the scorecard."""
    fold_auc = _folds(tuned_lightgbm=(-0.01, 0.02), logistic_scorecard=(0.002, 0.02), plain_logistic=(-0.001, 0.02),
                      lightgbm_default=(-0.02, 0.02), blend=(0.0, 0.005))
    means = {name: np.mean(found) for name, found in fold_auc.items()}
    assert max(means, key=means.get) == models.LOGISTIC
    assert models.choose(fold_auc) == models.BLEND


def test_a_candidate_clearly_better_than_the_blend_is_chosen():
    """Trees that beat the blend on every fold by 0.03 are chosen: the rule only settles near ties."""
    fold_auc = _folds(tuned_lightgbm=(0.03, 0.002), logistic_scorecard=(-0.04, 0.01), plain_logistic=(-0.04, 0.01),
                      lightgbm_default=(0.0, 0.01), blend=(0.0, 0.002))
    assert models.choose(fold_auc) == models.TUNED


def test_a_fold_without_an_auc_is_left_out_of_the_choice():
    """A fold whose rows are all good has no AUC (NaN); it neither decides nor poisons the rule."""
    fold_auc = _folds(tuned_lightgbm=(0.03, 0.002), logistic_scorecard=(-0.04, 0.01), plain_logistic=(-0.04, 0.01),
                      lightgbm_default=(0.0, 0.01), blend=(0.0, 0.002))
    for found in fold_auc.values():
        found[3] = float("nan")
    assert models.choose(fold_auc) == models.TUNED


def test_a_saved_blend_of_three_scores_as_it_did_in_training(tmp_path):
    """--out with the blend chosen writes the trees, both logistics and their weights; loading scores the same."""
    features, bad = linear_book(600, 6)
    found = models.fit_candidates(features, bad)
    found = dataclasses.replace(found, chosen=models.BLEND)
    specs = {name: {"type": "category" if name == "kind" else "number", "role": "feature"} for name in features}
    source = tmp_path / "book.csv"
    features.assign(bad=bad).to_csv(source, index=False)
    save_model(tmp_path / "model", found, specs, list(features.columns), {}, source)
    model, metadata = load_model(tmp_path / "model")
    written = {path.name for path in (tmp_path / "model").iterdir()}
    assert {"model.txt", "scorecard.json", "logistic.json", "blend.json"} <= written
    assert metadata["model_kind"] == "blend"
    np.testing.assert_allclose(model.predict_proba(features)[:, 1], found.model.predict_proba(features)[:, 1])


def test_a_blend_saved_before_the_plain_logistic_still_loads(tmp_path):
    """A blend.json of the old kind (the trees and the scorecard, no names, no weights) scores as their mean."""
    features, bad = linear_book(600, 6)
    found = dataclasses.replace(models.fit_candidates(features, bad), chosen=models.BLEND)
    specs = {name: {"type": "category" if name == "kind" else "number", "role": "feature"} for name in features}
    source = tmp_path / "book.csv"
    features.assign(bad=bad).to_csv(source, index=False)
    folder = tmp_path / "model"
    save_model(folder, found, specs, list(features.columns), {}, source)
    old = {"parts": [{"file": name, "sha256": file_sha256(folder / name)} for name in ("model.txt", "scorecard.json")],
           "combine": "mean of probabilities"}
    (folder / "blend.json").write_text(json.dumps(old), encoding="utf-8")
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    metadata["sha256"] = file_sha256(folder / "blend.json")
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    model, _ = load_model(folder)
    trees, card = found.models[models.TUNED], found.models[models.LOGISTIC]
    expected = (trees.predict_proba(features)[:, 1] + card.predict_proba(features)[:, 1]) / 2
    np.testing.assert_allclose(model.predict_proba(features)[:, 1], expected, rtol=1e-6)
