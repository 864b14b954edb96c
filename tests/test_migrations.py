"""A database built by the Alembic migrations matches the ORM metadata, on every backend."""
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, create_engine, insert, inspect, text

from app.extensions import db

from .conftest import PG_URL, make_app, reset_postgres_schema
from .conftest import normalise_database_url as normalise


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def empty_database(request, tmp_path):
    """An empty database of each backend, not the one the other tests share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    # Named after the test database, so that suites on different test databases do not collide.
    server, test_database = normalise(PG_URL).rsplit("/", 1)
    name = f"{test_database.split('?')[0]}_migration_check"
    url = f"{server}/{name}"
    admin = create_engine(normalise(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    reset_postgres_schema(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_migrations_build_exactly_the_orm_schema(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    db.metadata)
        assert diff == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_one_key_one_current_record_settles_what_concurrent_loads_left(empty_database):
    """Two loads of one file at the same moment stored two batches and two current records per key
    before the unique indexes: upgrading keeps the newest record current, the first batch loaded."""
    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="e79621e4152b")
        now = datetime(2026, 1, 5)
        with db.engine.begin() as conn:
            tables = {name: Table(name, MetaData(), autoload_with=conn) for name in ("credit_subject", "source_batch",
                                                                                    "source_record")}
            conn.execute(insert(tables["credit_subject"]).values(
                id=1, kind="enterprise", name="甲", town_code="610203100", uscc_check_failed=False, status="active",
                created_at=now))
            conn.execute(insert(tables["source_batch"]), [
                {"id": batch, "source": "tax_filing", "file_name": "税务_月度申报_2025.csv", "file_sha256": "a" * 64,
                 "status": "loaded", "received_at": now, "rows_read": 2, "rows_inserted": 2, "rows_updated": 0,
                 "rows_unchanged": 0, "rows_rejected": 0, "rows_duplicate": 0, "rows_warned": 0,
                 "reject_reasons": {}} for batch in (1, 2)])
            conn.execute(insert(tables["source_record"]), [
                {"id": record, "subject_id": 1, "source": "tax_filing", "natural_key": key, "payload": {},
                 "payload_hash": "0" * 16, "batch_id": batch, "raw_row_number": 2, "raw_row": "", "received_at": now}
                for record, key, batch in ((1, "A|2025-01-01", 1), (2, "B|2025-01-01", 1), (3, "A|2025-01-01", 2),
                                           (4, "B|2025-01-01", 2))])
        upgrade()
        with db.engine.connect() as conn:
            records = conn.execute(text("SELECT id, superseded_by_id FROM source_record ORDER BY id")).all()
            batches = conn.execute(text("SELECT id, status FROM source_batch ORDER BY id")).all()
        assert [tuple(r) for r in records] == [(1, 3), (2, 4), (3, None), (4, None)]
        assert [tuple(b) for b in batches] == [(1, "loaded"), (2, "duplicate")]
        downgrade(revision="e79621e4152b")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM source_batch WHERE id = 2")).scalar() == "loaded"
        downgrade(revision="base")
        db.engine.dispose()


def test_existing_audit_entries_are_chained_and_then_refused_change(empty_database):
    """Entries written before the chain existed get it on upgrade, verify, and can no longer be changed."""
    from sqlalchemy.exc import DBAPIError

    from app.services import audit

    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="2c3936ed774e")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_log (id, at, action, target_type, details) VALUES "
                              "(1, '2026-01-05 08:00:00', 'consent.grant', 'Consent', '{\"institution\": \"甲\"}'), "
                              "(2, '2026-01-05 09:30:00.250000', 'consent.revoke', 'Consent', '{}')"))
        upgrade()
        assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 2, "first_broken": None}
        audit.record(db.session, None, "test.entry", None, target_type="Test")
        db.session.commit()
        assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 3, "first_broken": None}
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_log WHERE id = 1"))
        db.session.rollback()
        db.session.remove()
        downgrade(revision="2c3936ed774e")
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = 1"))  # the triggers went with the downgrade
        downgrade(revision="base")
        db.engine.dispose()
