"""SQLite as a real embedded database: write-ahead log, a busy timeout, foreign keys; a page that
writes while an ingestion holds the write lock waits for it instead of failing (issue 13)."""
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.entities import FinancingNeed, SourceBatch
from app.extensions import db
from app.ingest import storing
from app.ingest.runner import export_files
from app.services import ingestion

from . import factories
from .conftest import csrf_token, logged_in_client, make_app, page_text
from .ingest import exports

WRITERS = 20
# How long the ingestion below holds the write lock: past SQLite's default wait of 5 s (the pages
# failed with "database is locked"), well within the platform's busy timeout.
LOCK_SECONDS = 7


def sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own settings")


def test_sqlite_writes_ahead_waits_for_a_writer_and_enforces_foreign_keys(app):
    sqlite_only()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError):  # a consent of no subject, for no institution
        factories.ConsentFactory(subject_id=999_999, institution_id=999_999)
    db.session.rollback()


def test_the_busy_timeout_is_a_setting(database_url):
    app = make_app(database_url, SQLITE_BUSY_TIMEOUT_SECONDS=2)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2_000
        db.engine.dispose()


def slow_insert(monkeypatch, locked):
    """Make the ingestion hold its write lock LOCK_SECONDS after its first insert, as a big file does."""
    insert = storing.insert_records

    def insert_then_linger(session, rows):
        insert(session, rows)
        if not locked.is_set():
            locked.set()
            time.sleep(LOCK_SECONDS)

    monkeypatch.setattr(storing, "insert_records", insert_then_linger)


def test_twenty_pages_write_while_an_ingestion_holds_the_lock_and_every_write_lands(app, world, tmp_path,
                                                                                     monkeypatch):
    firms = [factories.UserFactory(role="firm", subject=factories.SubjectFactory()) for _ in range(WRITERS)]
    db.session.commit()
    clients = [logged_in_client(app, user) for user in firms]
    tokens = [csrf_token(page_text(client.get("/firm/needs/new"))) for client in clients]
    before = db.session.scalar(select(func.count(FinancingNeed.id)))
    locked, statuses = threading.Event(), []
    slow_insert(monkeypatch, locked)
    folder = exports.write_district(tmp_path / "district")

    def ingest():
        with app.app_context():
            ingestion.ingest(db.session, export_files(folder), "610203")
            db.session.commit()

    def post_need(client, token):
        statuses.append(client.post("/firm/needs/new", data={
            "csrf_token": token, "amount_wan": "30", "term_months": "12", "purpose": "购置原料", "guarantee": "credit",
            "urgency": "normal"}).status_code)

    loader = threading.Thread(target=ingest)
    loader.start()
    assert locked.wait(30)
    writers = [threading.Thread(target=post_need, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in writers:
        thread.start()
    for thread in [*writers, loader]:
        thread.join(60)
    db.session.expire_all()
    assert statuses == [302] * WRITERS
    assert db.session.scalar(select(func.count(FinancingNeed.id))) == before + WRITERS
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 3
