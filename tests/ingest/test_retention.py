"""Uploaded originals (full ID numbers and all) and reject reports are kept only for the retention
period; their batches keep checksum and counts and say when the files went."""
import csv
import io
import os
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from app.entities import SourceBatch
from app.entities.base import utcnow
from app.extensions import db
from app.ingest import retention
from app.ingest.runner import ingest_paths
from app.ingest.uploads import UploadRefused, receive

from . import exports

TOWNS = ["610203001", "610203100", "610203101", "610203106"]
DAYS = 30


def upload(app, path):
    """`path` received as an upload is (kept under UPLOAD_DIR) and loaded; its batch."""
    storage = FileStorage(io.BytesIO(path.read_bytes()), filename=path.name)
    [kept] = receive(storage, app.config["UPLOAD_DIR"], 10**9, 100).paths
    result = ingest_paths(db.session, [kept], TOWNS)["files"][0]
    return db.session.get(SourceBatch, result["batch_id"])


def age(batch, days):
    """Make `batch` received `days` ago (its files go by the batch's time)."""
    batch.received_at = utcnow() - timedelta(days=days)
    db.session.commit()


def age_tree(folder, days):
    then = (utcnow() - timedelta(days=days)).timestamp()
    for parent, names, files in os.walk(folder):
        for name in (*names, *files):
            os.utime(Path(parent) / name, (then, then))
    os.utime(folder, (then, then))


def purge(app):
    result = retention.purge(db.session, app.config["UPLOAD_DIR"], app.config["REJECT_DIR"], DAYS)
    db.session.commit()
    return result.as_json()


def bad_registration(folder):
    """A registration file with one rejected row: a malformed legal representative's ID number."""
    rows = exports.registration_rows()
    rows[1][10] = "61020319900101123"  # 17 digits
    return exports.write_csv(folder / "市场监管_主体登记_2025.csv", "registration", rows)


def test_an_upload_past_retention_is_removed_and_its_batch_keeps_provenance(app, tmp_path):
    batch = upload(app, bad_registration(tmp_path))
    kept, report = Path(batch.kept_file), Path(batch.reject_file)
    assert kept.is_relative_to(Path(app.config["UPLOAD_DIR"]).resolve()) and kept.exists() and report.exists()
    checksum, counts = batch.file_sha256, (batch.rows_read, batch.rows_inserted, batch.rows_rejected)
    assert purge(app)["batches"] == 0 and kept.exists()  # within retention: kept
    age(batch, DAYS + 1)
    figures = purge(app)
    assert (figures["batches"], figures["upload_folders"], figures["reject_files"]) == (1, 1, 1)
    assert not kept.exists() and not kept.parent.exists() and not report.exists()
    batch = db.session.get(SourceBatch, batch.id)
    assert batch.files_removed_at is not None
    assert (batch.file_sha256, (batch.rows_read, batch.rows_inserted, batch.rows_rejected)) == (checksum, counts)
    again = purge(app)
    assert (again["batches"], again["upload_folders"], again["reject_files"], again["failures"]) == (0, 0, 0, 0)


def test_uploads_without_a_batch_and_stray_reports_go_by_age(app, tmp_path):
    batch = upload(app, exports.write_district(tmp_path / "d") / "市场监管_主体登记_2025.csv")
    duplicate = upload(app, tmp_path / "d" / "市场监管_主体登记_2025.csv")  # already loaded: no batch of its own
    assert duplicate.id == batch.id
    folders = sorted(Path(app.config["UPLOAD_DIR"]).iterdir())
    assert len(folders) == 2
    stray = Path(app.config["REJECT_DIR"]) / "batch-999-tax_filing-rejects.csv"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("行号 row\n", encoding="utf-8")
    for folder in folders:
        age_tree(folder, DAYS + 1)
    age_tree(stray.parent, DAYS + 1)
    figures = purge(app)  # the batch itself is recent: only its files are old
    assert (figures["upload_folders"], figures["reject_files"], figures["batches"]) == (2, 1, 0)
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == [] and not stray.exists()


def test_files_outside_the_kept_folders_are_never_removed(app, tmp_path):
    """A file loaded from the operator's own folder (`flask data ingest`) is theirs: not kept, not removed."""
    path = bad_registration(tmp_path)
    result = ingest_paths(db.session, [path], TOWNS)["files"][0]
    batch = db.session.get(SourceBatch, result["batch_id"])
    assert batch.kept_file is None
    age(batch, DAYS + 1)
    age_tree(tmp_path, DAYS + 1)
    figures = purge(app)
    assert (figures["batches"], figures["reject_files"], figures["upload_folders"]) == (1, 1, 0)
    assert path.exists() and not Path(batch.reject_file).exists()


def test_a_reject_report_masks_id_numbers(app, tmp_path):
    batch = upload(app, bad_registration(tmp_path))
    with open(batch.reject_file, encoding="utf-8-sig") as f:
        [row] = list(csv.DictReader(f))
    assert row["字段 field"] == "法定代表人证件号" and row["原始值 raw value"] == "610203*******1123"


def test_a_refused_upload_is_not_kept(app):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("税务_月度申报_炸弹.csv", b"0" * (10 * 1024 * 1024))
    with pytest.raises(UploadRefused, match="压缩炸弹"):
        receive(FileStorage(io.BytesIO(bomb.getvalue()), filename="bomb.zip"), app.config["UPLOAD_DIR"], 10**9, 100)
    assert list(Path(app.config["UPLOAD_DIR"]).iterdir()) == []
