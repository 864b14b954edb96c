"""Training on Dask: the same examples as the single-machine path, hence a model that grades alike."""
import json

import dask
import numpy as np
import pandas as pd
import pytest

from app.common.region import town_codes
from app.credit import snapshot
from app.credit.features import MODEL_INPUTS
from app.credit.records import read_district
from app.credit.registry import load_version
from training import dataset, train

TOWNS = town_codes("610203")


@pytest.fixture(scope="module")
def district_snapshot(synthetic_district, tmp_path_factory):
    """The small district's exports as a Parquet snapshot (no database needed)."""
    out = tmp_path_factory.mktemp("snapshot") / "snap"
    snapshot.write_export_snapshot(synthetic_district, out, TOWNS, rows=20_000)
    return out


def _by_key(frame, key):
    return frame.sort_values(key, key=lambda c: c.astype(str)).reset_index(drop=True)


def test_an_export_snapshot_holds_what_the_district_reader_reads(synthetic_district, district_snapshot):
    stored, expected = snapshot.read_records(district_snapshot), read_district(synthetic_district, TOWNS)
    assert set(stored) == set(expected)
    for name, frame in expected.items():
        key = list(snapshot.get_source(name).natural_key)
        pd.testing.assert_frame_equal(_by_key(stored[name], key), _by_key(frame, key))


def test_an_export_snapshot_is_incremental(synthetic_district, district_snapshot):
    again = snapshot.write_export_snapshot(synthetic_district, district_snapshot, TOWNS)
    assert again["batches_written"] == 0 and again["digest"] == snapshot.read_manifest(district_snapshot)["digest"]


def test_dask_examples_equal_the_pandas_examples(district_snapshot):
    expected = dataset.examples_from_snapshot(district_snapshot, TOWNS)
    with dask.config.set(scheduler="synchronous"):
        got = dataset.examples_from_snapshot(district_snapshot, TOWNS, engine="dask")
    pd.testing.assert_frame_equal(got.X, expected.X)
    assert np.array_equal(got.y, expected.y) and got.y.sum() >= 6
    assert got.fingerprint == expected.fingerprint == snapshot.fingerprint(district_snapshot)
    assert got.fingerprint.startswith("snapshot:")


def test_a_model_trained_on_dask_grades_the_same_subjects_alike(district_snapshot, tmp_path, capsys):
    versions = {}
    for engine in ("pandas", "dask"):
        train.main(["--snapshot", str(district_snapshot), "--out", str(tmp_path / engine), "--seed", "1",
                    "--engine", engine, "--workers", "1", "--memory-limit", "2GiB"])
        versions[engine] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["path"]
    bundles = {engine: load_version(path, MODEL_INPUTS) for engine, path in versions.items()}
    assert bundles["dask"].metadata["data_fingerprint"] == snapshot.fingerprint(district_snapshot)
    examples = dataset.examples_from_snapshot(district_snapshot, TOWNS)
    pds = {engine: bundle.predict_pd(examples.X) for engine, bundle in bundles.items()}
    grades = {engine: bundle.scale.grades(pds[engine]) for engine, bundle in bundles.items()}
    assert np.mean(grades["dask"] == grades["pandas"]) >= 0.99
    assert np.max(np.abs(pds["dask"] - pds["pandas"])) < 1e-6


def test_an_export_snapshot_written_by_two_processes_is_the_same_snapshot(synthetic_district, district_snapshot,
                                                                         tmp_path):
    figures = snapshot.write_export_snapshot(synthetic_district, tmp_path / "two", TOWNS, rows=20_000, processes=2)
    assert figures["digest"] == snapshot.read_manifest(district_snapshot)["digest"]
    assert figures["batches_written"] == len(snapshot.read_manifest(district_snapshot)["batches"])


def test_a_subject_range_reads_only_the_files_that_hold_it(district_snapshot, monkeypatch):
    files = [f for b in snapshot.read_manifest(district_snapshot)["batches"].values() for f in b["files"]]
    assert all(f["subjects"][0] <= f["subjects"][1] for f in files)
    whole = snapshot.read_source(district_snapshot, "tax_filing")
    low, high = int(whole["subject_id"].quantile(0.4)), int(whole["subject_id"].quantile(0.6))
    opened = []
    original = snapshot.ds.dataset

    def dataset(paths, **options):
        opened.extend(paths)
        return original(paths, **options)

    monkeypatch.setattr(snapshot.ds, "dataset", dataset)
    part = snapshot.read_records(district_snapshot, (low, high), sources=["tax_filing"])["tax_filing"]
    expected = whole[whole["subject_id"].between(low, high)].drop(columns="subject_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected)
    tax_files = [f for f in files if f["path"].startswith("source=tax_filing/")]
    assert 0 < len(opened) < len(tax_files)
