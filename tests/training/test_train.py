"""Training, evaluation and the registry on a small synthetic district."""
import json
import subprocess

import pytest

from app.common.checksums import file_sha256
from app.credit import registry
from app.credit.features import MODEL_INPUTS
from app.credit.peers import LEVELS

from ..conftest import run_module

KEYS = ["auc", "ks", "brier", "ece", "baseline_auc", "psi", "oracle_auc", "oracle_brier", "auc_to_oracle"]


run = run_module


@pytest.fixture
def district(synthetic_district):
    return synthetic_district


@pytest.fixture
def trained(trained_model):
    return trained_model


def test_train_registers_a_complete_version(trained):
    result, out = trained
    folder = out / result["version"]
    assert str(folder) == result["path"]
    for name in ("model.txt", "metadata.json", "metrics.json", "card.md", "SHA256SUMS"):
        assert (folder / name).exists(), name
    metadata = json.loads((folder / "metadata.json").read_text())
    assert [f["name"] for f in metadata["features"]] == list(MODEL_INPUTS)
    # a raw level (kWh, revenue, headcount) is read only within the subject's peers (issue 16)
    assert not set(LEVELS) & set(MODEL_INPUTS) and set(LEVELS.values()) <= set(MODEL_INPUTS)
    assert metadata["libraries"]["lightgbm"] and metadata["data_fingerprint"] and metadata["split"]["cuts"]
    # Training never activates: it writes its version folder and nothing else (the database says
    # which version is active, and only a person's activation changes it).
    assert [p.name for p in out.iterdir()] == [result["version"]]


def test_evaluate_reports_the_required_figures(trained, district):
    result, _ = trained
    report = run("training.evaluate", "--model", result["path"], "--data", str(district), "--json")
    assert not [k for k in KEYS if k not in report]
    # Quality is a benchmark's business (a small district has few defaults); here: well-formed figures.
    assert 0 <= report["auc"] <= 1 and 0 < report["oracle_auc"] <= 1 and report["holdout"]["loans"] > 0
    assert set(report["fairness"]) == set(report["fairness_oracle"]) == {"subject_kind", "town", "size_class",
                                                                         "thin_file"}
    calibration = report["group_calibration"]
    assert {r["dimension"] for r in calibration} == {"subject_kind", "town", "size_class", "thin_file"}
    for dimension in ("subject_kind", "thin_file"):  # each dimension's groups cover the holdout once
        assert sum(r["n"] for r in calibration if r["dimension"] == dimension) == report["holdout"]["loans"]
    assert all(set(r) == {"dimension", "group", "n", "predicted_pd", "oracle_pd", "realised_pd", "ratio_to_oracle"}
               for r in calibration)
    # The training population's score bins, for the regulator's PSI against it (app/services/monitoring.py).
    kept = report["training_scores"]
    assert kept["n"] == report["holdout"]["train_loans"] and len(kept["shares"]) == len(kept["cuts"]) + 1
    assert abs(sum(kept["shares"]) - 1) < 0.01 and abs(sum(kept["grades"].values()) - 1) < 1e-3


def test_same_seed_same_model(trained, district, tmp_path):
    result, _ = trained
    again = run("training.train", "--data", str(district), "--out", str(tmp_path), "--seed", "1")
    first, second = (registry.Path(folder) / "model.txt" for folder in (result["path"], again["path"]))
    assert file_sha256(first) == file_sha256(second)


def test_registry_refuses_a_tampered_file(trained, tmp_path):
    result, _ = trained
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", result["path"], str(copy)], check=True)
    with open(copy / "model.txt", "a") as f:
        f.write("\n")
    with pytest.raises(registry.RegistryError, match="sha256"):
        registry.load_version(copy, MODEL_INPUTS)


def test_registry_refuses_a_different_feature_list(trained):
    result, _ = trained
    with pytest.raises(registry.RegistryError, match="feature list"):
        registry.load_version(result["path"], [*MODEL_INPUTS, "new_feature"])


def test_registry_refuses_another_lightgbm_major(trained, tmp_path):
    result, _ = trained
    copy = tmp_path / "old"
    subprocess.run(["cp", "-r", result["path"], str(copy)], check=True)
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["libraries"]["lightgbm"] = "3.3.5"
    (copy / "metadata.json").write_text(json.dumps(metadata))
    sums = "".join(f"{file_sha256(copy / n)}  {n}\n" for n in registry.CHECKED_FILES)
    (copy / "SHA256SUMS").write_text(sums)
    with pytest.raises(registry.RegistryError, match="major"):
        registry.load_version(copy, MODEL_INPUTS)


def test_rounds_fix_the_size_and_evaluate_gives_the_targets_with_intervals(district, tmp_path):
    """`--rounds N` trains exactly N trees (no early stopping: a model of a chosen size, as the scoring
    benchmark needs); `--intervals` adds the issue-16 targets, each with a 95 % interval."""
    result = run("training.train", "--data", str(district), "--out", str(tmp_path), "--seed", "1", "--rounds", "40")
    bundle = registry.load_version(result["path"], MODEL_INPUTS)
    assert bundle.booster.num_trees() == 40 and bundle.metadata["parameters"]["num_boost_round"] == 40
    report = run("training.evaluate", "--model", result["path"], "--data", str(district), "--json",
                 "--intervals", "30")
    targets = report["targets"]
    assert targets["draws"] > 0
    for key in ("expected_auc_to_oracle", "auc_gain_over_baseline", "ece"):
        assert targets[key]["value"] == pytest.approx(report[key])
        assert isinstance(targets[key]["met"], bool) and len(targets[key]["ci95"]) == 2
    assert {g["group"] for g in targets["four_fifths_subject_kind"]["groups"]} == {
        r["group"] for r in report["fairness"]["subject_kind"]}
    assert len(targets["group_calibration"]["groups"]) == len(report["group_calibration"])


def test_an_ablated_version_is_evaluated_on_the_frame_it_learned_from(district):
    """Leaving out the registration family blanks the subject's kind for the model, but the peer and health
    features were filled from the real kind in training: evaluation must score that same frame, and its
    fairness table still groups the loans by what they are."""
    import copy

    from app.common.region import town_codes
    from app.config import Config
    from app.credit.metrics import auc
    from app.credit.peers import with_peers
    from app.credit.registry import ModelBundle
    from app.credit.scale import Scale
    from training import dataset
    from training.train import train

    towns = town_codes(Config.REGION_CODE)
    examples = dataset.examples_from_folder(district, towns)
    booster, metadata, report = train(copy.deepcopy(examples), towns, 0, None, {"ablate": ("registration",)})
    learned = with_peers(examples.X, metadata["peers"])
    for name in metadata["ablated"]["features"]:
        learned[name] = None  # missing, as training left it
    hold = examples.parts(examples.split_dates())[2]
    bundle = ModelBundle("candidate", None, booster, metadata, Scale())
    expected = auc(examples.y[hold], bundle.predict_pd(learned[hold]))
    assert report["auc"] == expected
    kinds = {row["group"] for row in report["fairness"]["subject_kind"]}
    assert kinds <= {"enterprise", "individual_business", "farmer", "cooperative"} and len(kinds) >= 2
