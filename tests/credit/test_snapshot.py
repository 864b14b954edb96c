"""Parquet snapshots of the department records: incremental, idempotent, the same records as the database."""
import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from app.common.region import town_codes
from app.credit import snapshot
from app.credit.records import records_from_db
from app.entities import SourceBatch, SourceRecord
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths

TOWNS = town_codes("610203")


@pytest.fixture
def loaded(app, small_district):
    ingest_paths(db.session, export_files(small_district), TOWNS)
    db.session.commit()


def _sorted(frame):
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns)[:3], key=lambda c: c.astype(str)).reset_index(drop=True)


def test_snapshot_holds_the_current_records_of_every_loaded_batch(app, loaded, tmp_path):
    figures = snapshot.write_snapshot(db.session, tmp_path / "snap")
    batches = db.session.scalar(select(func.count()).select_from(SourceBatch).where(SourceBatch.status == "loaded"))
    current = db.session.scalar(select(func.count()).select_from(SourceRecord)
                                .where(SourceRecord.superseded_by_id.is_(None)))
    assert figures["batches_written"] == figures["batches"] == batches
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["digest"] == figures["digest"]
    stored = snapshot.read_records(tmp_path / "snap")
    assert sum(len(frame) for frame in stored.values()) == current
    expected = records_from_db(db.session)
    assert set(stored) == set(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(_sorted(stored[name]), _sorted(frame), check_dtype=False)
    # Partitioned by source and period; every file is listed with its rows and checksum.
    files = [f for batch in manifest["batches"].values() for f in batch["files"]]
    assert all(f["path"].startswith("source=") and "/period=" in f["path"] for f in files)
    assert any("period=none" in f["path"] for f in files) and any("period=20" in f["path"] for f in files)
    assert sum(f["rows"] for f in files) == figures["rows"]


def test_a_second_run_writes_nothing_and_keeps_the_fingerprint(app, loaded, tmp_path):
    first = snapshot.write_snapshot(db.session, tmp_path / "snap")
    files = sorted(p.relative_to(tmp_path) for p in (tmp_path / "snap").rglob("*.parquet"))
    second = snapshot.write_snapshot(db.session, tmp_path / "snap")
    assert second["batches_written"] == second["rows_written"] == 0
    assert second["digest"] == first["digest"]
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "snap").rglob("*.parquet")) == files
    assert snapshot.fingerprint(tmp_path / "snap") == f"snapshot:{first['digest']}"


def test_a_new_batch_is_added_alone_and_its_corrections_win(app, loaded, small_district, tmp_path):
    first = snapshot.write_snapshot(db.session, tmp_path / "snap")
    # A corrected tax filing: the same month of the same firm with another revenue.
    filings = next(small_district.glob("税务_月度申报_all.csv"))
    rows = pd.read_csv(filings, dtype=str, keep_default_na=False, encoding="utf-8-sig").iloc[:1]
    rows["营业收入(元)"] = "123456.00"
    correction = tmp_path / "税务_月度申报_更正_new.csv"
    rows.to_csv(correction, index=False, encoding="utf-8-sig")
    ingest_paths(db.session, [correction], TOWNS)
    db.session.commit()
    second = snapshot.write_snapshot(db.session, tmp_path / "snap")
    assert second["batches_written"] == 1 and second["rows_written"] == 1
    assert second["batches"] == first["batches"] + 1 and second["digest"] != first["digest"]
    stored = snapshot.read_records(tmp_path / "snap")["tax_filing"]
    assert len(stored) == len(records_from_db(db.session, sources=["tax_filing"])["tax_filing"])
    code = rows.iloc[0]["纳税人识别号"]
    mine = stored[stored["subject_code"] == code]
    assert 123456.0 in set(mine["revenue"])


def test_a_subject_range_reads_only_those_subjects(app, loaded, tmp_path):
    snapshot.write_snapshot(db.session, tmp_path / "snap")
    ids = sorted(db.session.scalars(select(SourceRecord.subject_id).distinct()))
    low, high = ids[5], ids[9]
    part = snapshot.read_records(tmp_path / "snap", (low, high))
    expected = records_from_db(db.session, id_range=(low, high))
    assert {name: len(frame) for name, frame in part.items()} == {name: len(f) for name, f in expected.items()}


def test_the_command_prints_its_figures(app, loaded, tmp_path):
    out = app.test_cli_runner().invoke(args=["data", "snapshot", "--out", str(tmp_path / "snap")])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output.strip().splitlines()[-1])
    assert figures["batches_written"] > 0 and figures["rows"] > 0
