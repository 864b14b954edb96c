"""The Dask path runs the one feature module per partition of subjects: the same frames as pandas."""
import time

import dask
import pandas as pd
import pytest
from sqlalchemy import select

from app.common.region import town_codes
from app.credit import cluster, snapshot
from app.credit.features import build_features
from app.credit.records import records_from_db
from app.credit.scoring import data_as_of
from app.entities import CreditSubject
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths
from training.dataset import department_loans

TOWNS = town_codes("610203")


@pytest.fixture
def snapped(app, small_district, tmp_path):
    ingest_paths(db.session, export_files(small_district), TOWNS)
    db.session.commit()
    snapshot.write_snapshot(db.session, tmp_path / "snap")
    return tmp_path / "snap"


def _subjects():
    rows = db.session.execute(select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id)
                              .order_by(CreditSubject.id)).all()
    return pd.DataFrame({"id": [r[0] for r in rows], "code": [r[1] or r[2] for r in rows]})


def test_dask_features_equal_the_pandas_features_of_every_subject(app, snapped):
    subjects = _subjects()
    targets = pd.DataFrame({"subject_code": subjects["code"], "as_of": pd.Timestamp(data_as_of(db.session))})
    expected = build_features(records_from_db(db.session), targets, TOWNS, context=True)
    with cluster.dask_client(workers=1, processes=False, memory_limit="1GiB"):
        built = cluster.features_frame(snapped, targets, subjects["id"], TOWNS, context=True, size=7)
        assert built.npartitions > 3  # several partitions of subjects, not one
        got = built.compute().sort_index().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_dask_features_of_loans_at_their_own_dates_equal_the_pandas_ones(app, snapped):
    frames = records_from_db(db.session)
    loans = department_loans(frames).sort_values(["disbursed_on", "loan_no"]).reset_index(drop=True)
    assert len(loans) > 10
    ids = dict(zip(_subjects()["code"], _subjects()["id"], strict=True))
    targets = pd.DataFrame({"subject_code": loans["subject_code"], "as_of": loans["disbursed_on"],
                            "amount": loans["amount"], "term_months": loans["term_months"],
                            "lender_kind": loans["lender_kind"]})
    expected = build_features(frames, targets, TOWNS)
    with dask.config.set(scheduler="synchronous"):
        got = cluster.compute_features(snapped, targets, loans["subject_code"].map(ids), TOWNS, size=5)
    pd.testing.assert_frame_equal(got, expected)


def test_a_cluster_in_threads_of_a_large_process_still_runs_its_tasks():
    """Workers in this process's threads are not held to a memory limit: they would measure the whole process
    (a test run past 1 GB hung here, every worker paused) instead of their own work."""
    ballast = bytes(range(256)) * (300 * 2**20 // 256)  # resident: this process well past the limit below
    with cluster.dask_client(workers=1, processes=False, memory_limit="200MiB") as client:
        time.sleep(1.5)  # the workers' memory monitor (every 0.1 s) has looked at the process
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
    assert len(ballast) == 300 * 2**20


def test_a_partition_spans_at_most_its_size_in_subject_ids_however_sparse_the_targets():
    # Targets of a third of the subjects (as loans are), some subjects with several rows.
    ids = [i for i in range(1, 3001) if i % 3 == 0] + [30, 30, 2999]
    frame = pd.DataFrame({"subject_id": ids, "value": range(len(ids))})
    parts = cluster.partitioned(frame, "subject_id", size=500)
    spans = []
    for part in parts.to_delayed():
        rows = part.compute()
        if len(rows):
            spans.append((rows.index.min(), rows.index.max()))
    assert all(high - low < 500 for low, high in spans)
    assert sorted(parts.compute()[cluster.POSITION]) == list(range(len(ids)))
    assert len(spans) == 6  # ids 3…3000 in ranges of 500 ids from the first, not 1,000 rows each
