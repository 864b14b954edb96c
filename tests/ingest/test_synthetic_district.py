"""The synthetic district through the real ingestion path: every planted defect is caught, no more."""
import csv
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from app.common.region import town_codes
from app.entities import CreditSubject, SourceRecord
from app.extensions import db
from app.ingest.runner import export_files, ingest_paths

TOWNS = town_codes("610203")


@pytest.fixture(scope="session")
def district(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth") / "district"
    subprocess.run([sys.executable, "-m", "training.synth", "--firms", "300", "--seed", "5", "--out", str(folder)],
                   check=True, capture_output=True)
    return folder


def planted(folder):
    with open(folder / "_truth" / "defects.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    invalid = {(r["file"], int(r["line"])) for r in rows if r["defect"] != "duplicate"}
    duplicates = sum(r["defect"] == "duplicate" for r in rows)
    return invalid, duplicates


def test_every_planted_defect_is_caught_and_nothing_else(app, district):
    summary = ingest_paths(db.session, export_files(district), TOWNS)
    rejected = set()
    for result in summary["files"]:
        assert result["status"] == "loaded", result
        if result["reject_file"]:
            with open(result["reject_file"], encoding="utf-8-sig") as f:
                rejected |= {(result["file"], int(r["行号 row"])) for r in csv.DictReader(f)}
    invalid, duplicates = planted(district)
    assert rejected == invalid
    assert summary["totals"]["duplicates"] == duplicates
    assert db.session.scalar(select(func.count(CreditSubject.id))) == 300
    assert not any("_truth" in f["file"] for f in summary["files"])


def test_second_run_changes_nothing(app, district):
    ingest_paths(db.session, export_files(district), TOWNS)
    records = db.session.scalar(select(func.count(SourceRecord.id)))
    again = ingest_paths(db.session, export_files(district), TOWNS)
    assert again["totals"]["inserted"] == again["totals"]["updated"] == 0
    assert db.session.scalar(select(func.count(SourceRecord.id))) == records
