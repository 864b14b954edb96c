"""Two loads at the same moment, on real threads with their own database connections: the file is
loaded once, the other load reports it as already received (or its rows as unchanged), and the
database itself refuses a second current record of a key or a second batch of one file."""
import contextlib
import threading

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app.entities import SourceBatch, SourceRecord
from app.extensions import db
from app.ingest import loading, storing
from app.ingest.runner import ingest_paths

from . import exports

TOWNS = ["610203001", "610203100", "610203101", "610203106"]


def race(app, monkeypatch, *paths):
    """Load each path on its own thread, app context and connection. Each load waits, once it has read
    its file, until the others have too: both have looked for an earlier batch before either writes."""
    barrier = threading.Barrier(len(paths), timeout=10)
    read_export = loading.read_export

    def read_then_wait(path, source):
        export = read_export(path, source)
        with contextlib.suppress(threading.BrokenBarrierError):  # a load waiting elsewhere first is no failure
            barrier.wait()
        return export

    monkeypatch.setattr(loading, "read_export", read_then_wait)
    results = [None] * len(paths)

    def run(index, path):
        with app.app_context():
            try:
                results[index] = ingest_paths(db.session, [path], TOWNS)["files"][0]
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, path)) for i, path in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    db.session.expire_all()
    return results


def current_per_key(source):
    """How many current records each natural key of `source` has."""
    query = (select(SourceRecord.natural_key, func.count()).where(
        SourceRecord.source == source, SourceRecord.superseded_by_id.is_(None)).group_by(SourceRecord.natural_key))
    return dict(db.session.execute(query).all())


@pytest.fixture
def registered(app, tmp_path):
    """The tiny district's subjects registered; the folder of its exports."""
    folder = exports.write_district(tmp_path / "district")
    ingest_paths(db.session, [folder / "市场监管_主体登记_2025.csv"], TOWNS)
    return folder


def test_the_same_file_twice_at_once_loads_once(app, registered, monkeypatch):
    path = registered / "税务_月度申报_2025.csv"
    results = race(app, monkeypatch, path, path)
    assert sorted(r["status"] for r in results) == ["already_loaded", "loaded"], results
    loser = next(r for r in results if r["status"] == "already_loaded")
    assert "已于批次" in loser["message"] and loser["inserted"] == loser["updated"] == 0
    assert list(current_per_key("tax_filing").values()) == [1, 1, 1]
    assert db.session.scalar(select(func.count(SourceBatch.id)).where(SourceBatch.source == "tax_filing")) == 1


def test_the_same_rows_in_two_files_at_once_are_stored_once(app, registered, monkeypatch, tmp_path):
    path = registered / "税务_月度申报_2025.csv"
    again = tmp_path / "again" / path.name
    again.parent.mkdir()
    again.write_bytes(path.read_bytes() + b"\r\n")  # another checksum, the same rows
    results = race(app, monkeypatch, path, again)
    assert sorted((r["status"], r["inserted"], r["unchanged"]) for r in results) == [
        ("loaded", 0, 3), ("loaded", 3, 0)], results
    assert list(current_per_key("tax_filing").values()) == [1, 1, 1]


def test_without_the_lock_the_unique_indexes_still_leave_one_load(app, registered, monkeypatch):
    """Should the serialisation ever be bypassed, the loser hits a unique index and, tried again, finds
    the winner's batch: still no duplicate and no error."""
    monkeypatch.setattr(storing, "lock_source", lambda session, source_name: None, raising=False)
    path = registered / "税务_月度申报_2025.csv"
    results = race(app, monkeypatch, path, path)
    assert sorted(r["status"] for r in results) == ["already_loaded", "loaded"], results
    assert list(current_per_key("tax_filing").values()) == [1, 1, 1]


def _record(batch_id, subject_id, superseded_by_id=None):
    return {"subject_id": subject_id, "source": "tax_filing", "natural_key": "K|2025-01-01", "payload": {},
            "payload_hash": "0" * 16, "batch_id": batch_id, "raw_row_number": 2, "raw_row": "",
            "superseded_by_id": superseded_by_id}


def test_the_database_refuses_a_second_current_record_of_a_key(app, registered):
    batch = db.session.scalars(select(SourceBatch)).first()
    subject_id = db.session.scalars(select(SourceRecord.subject_id)).first()
    first = db.session.execute(insert(SourceRecord).values(_record(batch.id, subject_id))).inserted_primary_key[0]
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(SourceRecord).values(_record(batch.id, subject_id)))
    # A superseded version of the key is history, not a second current record.
    db.session.execute(insert(SourceRecord).values(_record(batch.id, subject_id, superseded_by_id=first)))
    db.session.commit()


def test_the_database_refuses_a_second_batch_of_one_file(app, registered):
    batch = db.session.scalars(select(SourceBatch)).first()
    with pytest.raises(IntegrityError):
        db.session.add(SourceBatch(source=batch.source, file_name="again.csv", file_sha256=batch.file_sha256,
                                   status="loaded"))
        db.session.flush()
    db.session.rollback()
    # The same file under another source's name is another batch.
    db.session.add(SourceBatch(source="tax_grade", file_name="x.csv", file_sha256=batch.file_sha256, status="loaded"))
    db.session.commit()
