"""`flask backup create` / `flask backup restore`: a backup restored into a fresh database holds every row,
every audit entry in order and every file; a restore refuses a target holding data (unless forced), an
archive of newer code and a damaged archive, before changing anything."""
import io
import json
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import create_engine, func, inspect, select, table, text

from app.entities import AuditEntry, CreditSubject, DataAccessLog
from app.extensions import db
from app.services import audit, backup, consents, dumps, identity

from .. import factories
from ..conftest import PG_URL, make_app, normalise_database_url, reset_postgres_schema


def last_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def counts_of(url):
    """{table: rows} of every table of the database at `url`, counted here independently of the service."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {name: connection.scalar(select(func.count()).select_from(table(name)))
                    for name in inspect(connection).get_table_names()}
    finally:
        engine.dispose()


def audit_log_of(url):
    """Every audit entry of the database at `url`, in order, with every column."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(AuditEntry.__table__).order_by(AuditEntry.id))]
    finally:
        engine.dispose()


@pytest.fixture
def source(app, world, tmp_path):
    """The world with scores, department records, audit entries and 查询记录, a model registry, uploads and a
    reject report,
    in a database stamped with the code's Alembic revision (as `flask db upgrade` leaves it)."""
    registry, uploads = tmp_path / "registry", tmp_path / "uploads"
    (registry / "20260101-000000-test").mkdir(parents=True)
    (registry / "20260101-000000-test" / "model.txt").write_text("tree\n", encoding="utf-8")
    (uploads / "2026").mkdir(parents=True)
    (uploads / "2026" / "税务_月度申报.csv").write_bytes("统一社会信用代码,所属期\n".encode("gb18030"))
    rejects = Path(app.config["REJECT_DIR"])
    rejects.mkdir(parents=True)
    (rejects / "batch-1-rejects.csv").write_text("行号,原因\n2,缺少统一社会信用代码\n", encoding="utf-8")
    app.config.update(MODEL_REGISTRY=str(registry), UPLOAD_DIR=str(uploads))
    firm, officer = world["firm"], world["users"]["officer"]
    factories.add_score(firm, "B", 0.04)
    factories.add_records(firm, "tax_filing", [(factories.months_ago(1), {"revenue": 1200.5})])
    consents.log_access(db.session, firm.id, officer, world["consent"], f"application:{world['application'].id}")
    identity.release(db.session, firm, world["bank_b"], world["users"]["firm"])
    consents.revoke(db.session, world["consent"], world["users"]["firm"])
    audit.record(db.session, world["users"]["platform_admin"], "test.entry", world["product"], note="备份测试")
    db.session.commit()
    stamp()
    db.session.remove()
    yield app.config["SQLALCHEMY_DATABASE_URI"]
    with db.engine.begin() as connection:  # the shared test database is built without migrations
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def scratch_postgresql():
    """The URL of a PostgreSQL database of the tests' own, <test database>_restore, created once and dropped
    at the end (dropping a database waits for a checkpoint: once, not per test)."""
    server, test_database = normalise_database_url(PG_URL).rsplit("/", 1)
    name = f"{test_database.split('?')[0]}_restore"
    admin = create_engine(normalise_database_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def fresh_url(app, tmp_path, request):
    """An empty database of the app's backend, not the tests' one (PostgreSQL: <test database>_restore)."""
    if db.engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    url = request.getfixturevalue("scratch_postgresql")
    reset_postgres_schema(url)
    return url


def create_backup(app, out):
    """Run `flask backup create --out OUT`; its summary and the archive's manifest."""
    created = last_json(app.test_cli_runner().invoke(args=["backup", "create", "--out", str(out)]))
    with tarfile.open(created["archive"]) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    return created, manifest


def restore(url, tmp_path, archive, *options):
    """Run `flask backup restore ARCHIVE` on an app of the database at `url` with folders of its own."""
    target = make_app(url, MODEL_REGISTRY=str(tmp_path / "restored-registry"),
                      UPLOAD_DIR=str(tmp_path / "restored-uploads"), REJECT_DIR=str(tmp_path / "restored-rejects"))
    with target.app_context():  # the command runs in the app of the context it finds
        result = target.test_cli_runner().invoke(args=["backup", "restore", str(archive), *options])
        db.engine.dispose()
    return result


def test_a_backup_restored_into_a_fresh_database_has_every_row_audit_entry_and_file(app, source, fresh_url,
                                                                                    tmp_path):
    before, entries = counts_of(source), audit_log_of(source)
    assert [entry[3] for entry in entries] == ["firm_data.view", "identity.release", "consent.revoke", "test.entry"]
    created, manifest = create_backup(app, tmp_path / "backups")
    assert manifest["row_counts"] == before and manifest["alembic_revision"] == created["alembic_revision"]
    assert manifest["database"]["kind"] == db.engine.dialect.name
    assert set(manifest["files"]) == {backup.DATABASE_FILES[db.engine.dialect.name],
                                      "models/20260101-000000-test/model.txt", "uploads/2026/税务_月度申报.csv",
                                      "rejects/batch-1-rejects.csv"}
    assert created["rows"] == sum(before.values()) and created["files"] == {"models": 1, "uploads": 1, "rejects": 1}

    restored = last_json(restore(fresh_url, tmp_path, created["archive"]))
    assert restored["tables"] == before == counts_of(fresh_url)
    assert restored["upgrade_needed"] is False and restored["checksums_verified"] == 4
    assert audit_log_of(fresh_url) == entries
    assert (tmp_path / "restored-registry" / "20260101-000000-test" / "model.txt").read_text() == "tree\n"
    assert (tmp_path / "restored-uploads" / "2026" / "税务_月度申报.csv").read_bytes() == (
        tmp_path / "uploads" / "2026" / "税务_月度申报.csv").read_bytes()
    assert "缺少统一社会信用代码" in (tmp_path / "restored-rejects" / "batch-1-rejects.csv").read_text(encoding="utf-8")


def test_a_target_holding_data_is_replaced_only_with_force(app, source, tmp_path):
    created, manifest = create_backup(app, tmp_path / "backups")
    subject_id = db.session.scalars(select(CreditSubject.id)).first()
    db.session.add(DataAccessLog(subject_id=subject_id, purpose="supervision", what="after the backup"))
    db.session.commit()
    db.session.remove()
    after = counts_of(source)
    refused = restore(source, tmp_path, created["archive"])
    assert refused.exit_code != 0
    assert "恢复目标不为空" in refused.output and "--force" in refused.output and "not empty" in refused.output
    assert counts_of(source) == after and not (tmp_path / "restored-uploads").exists()

    restored = last_json(restore(source, tmp_path, created["archive"], "--force"))
    assert restored["tables"] == manifest["row_counts"] == counts_of(source)
    assert counts_of(source)["data_access_log"] == after["data_access_log"] - 1


def rewritten(archive, out, change):
    """A copy of `archive` whose members pass through `change(name, bytes) -> bytes`."""
    with tarfile.open(archive) as original, tarfile.open(out, "w:gz") as copy:
        for member in original.getmembers():
            body = change(member.name, original.extractfile(member).read()) if member.isfile() else None
            if body is not None:
                member.size = len(body)
            copy.addfile(member, io.BytesIO(body) if body is not None else None)
    return out


def test_a_damaged_archive_is_refused_before_anything_changes(app, source, fresh_url, tmp_path):
    created, _manifest = create_backup(app, tmp_path / "backups")
    damaged = rewritten(created["archive"], tmp_path / "damaged.tar.gz",
                        lambda name, body: body + b"x" if name.startswith("uploads/") else body)
    refused = restore(fresh_url, tmp_path, damaged)
    assert refused.exit_code != 0 and "校验和不符" in refused.output and "税务_月度申报.csv" in refused.output
    assert counts_of(fresh_url) == {} and not (tmp_path / "restored-registry").exists()


def test_an_archive_of_newer_code_is_refused(app, source, fresh_url, tmp_path):
    created, _manifest = create_backup(app, tmp_path / "backups")

    def newer(name, body):
        if name != "manifest.json":
            return body
        manifest = json.loads(body)
        manifest["alembic_revision"] = "fffffffffff0"
        return json.dumps(manifest).encode()

    refused = restore(fresh_url, tmp_path, rewritten(created["archive"], tmp_path / "newer.tar.gz", newer))
    assert refused.exit_code != 0 and "fffffffffff0" in refused.output and "比本程序新" in refused.output
    assert "newer than this code" in refused.output and counts_of(fresh_url) == {}


def test_a_database_not_built_by_migrations_is_not_backed_up(app, world, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "Alembic" in result.output and list((tmp_path / "out").iterdir()) == []


@pytest.fixture
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL tools")


def fake_tool(folder, name, version):
    """An executable `name` in `folder` that only prints `version`."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{version}'\n", encoding="utf-8")
    path.chmod(0o755)


def test_a_missing_or_mismatched_pg_dump_is_named(app, source, postgresql_only, tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setattr(dumps, "VERSIONED_BIN", str(tmp_path / "no-such-{major}"))
    monkeypatch.setenv("PATH", str(tools))
    missing = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(tmp_path / "out")])
    assert missing.exit_code != 0 and "找不到 pg_dump" in missing.output and "postgresql-client-" in missing.output
    fake_tool(tools, "pg_dump", "pg_dump (PostgreSQL) 9.6.24")
    mismatched = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(tmp_path / "out")])
    assert mismatched.exit_code != 0 and "9.6.24" in mismatched.output and "主版本" in mismatched.output
    assert list((tmp_path / "out").iterdir()) == []  # no archive, not even a partial one


@pytest.fixture(params=["delete", "wal"])
def sqlite_writer(request, app, source):
    """start(count): a thread writing `count` audit entries into the SQLite source (in the rollback-journal or
    WAL mode) through a connection of its own, one commit each, as the platform's workers do; returns (stop,
    errors, thread)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's online backup")
    path = source.removeprefix("sqlite:///")
    set_journal_mode(path, request.param)
    threads = []

    def start(count):
        stop, errors = threading.Event(), []

        def write():
            writer = sqlite3.connect(path, timeout=5)
            number = 0
            while not stop.is_set() and number < count:
                try:
                    writer.execute("INSERT INTO audit_log (at, action, target_type, details, prev_hash, row_hash) "
                                   "VALUES (CURRENT_TIMESTAMP, ?, 'Test', '{}', '', '')", (f"write.{number}",))
                    writer.commit()
                except sqlite3.Error as error:
                    errors.append(error)
                number += 1
                time.sleep(0.002)
            writer.close()

        thread = threading.Thread(target=write)
        threads.append((stop, thread))
        thread.start()
        return stop, errors, thread

    yield start
    for stop, thread in threads:
        stop.set()
        thread.join()
    set_journal_mode(path, "delete")


def set_journal_mode(path, mode):
    """Put the SQLite database file in `mode` (no other connection may be open)."""
    db.session.remove()
    db.engine.dispose()
    connection = sqlite3.connect(path)
    assert connection.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode
    connection.close()


def test_a_sqlite_backup_taken_while_the_platform_writes_is_one_consistent_state(app, sqlite_writer, fresh_url,
                                                                                 tmp_path, monkeypatch):
    monkeypatch.setattr(dumps, "SQLITE_STEP_PAGES", 1)  # many steps, so that writes land between them
    _stop, errors, thread = sqlite_writer(150)
    created, manifest = create_backup(app, tmp_path / "backups")
    thread.join()
    assert errors == []  # no write was locked out by the backup
    restored = last_json(restore(fresh_url, tmp_path, created["archive"]))
    written = manifest["row_counts"]["audit_log"] - 4
    assert restored["tables"] == manifest["row_counts"] and 0 <= written <= 150
    actions = [entry[3] for entry in audit_log_of(fresh_url)]
    assert actions[4:] == [f"write.{number}" for number in range(written)]  # a prefix of the writes, no gap
