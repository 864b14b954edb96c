"""The audit log is append-only and hash-chained: every entry chains onto the one before it, even with
two writers at once; the database refuses to change or delete an entry; an entry edited, deleted from
the middle or from the end behind the triggers' back (as a superuser could) is found by `verify`."""
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.common.chain import GENESIS
from app.entities import AuditChainHead, AuditEntry
from app.extensions import db
from app.services import audit

from ..conftest import append_only_lifted


def write(count, actor=None, action="test.entry"):
    """Commit `count` entries one by one; their ids."""
    ids = []
    for number in range(count):
        ids.append(audit.record(db.session, actor, action, None, target_type="Test", number=number))
        db.session.commit()
    return [entry.id for entry in ids]


def entries():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def tamper(statement, **params):
    """Run `statement` on the audit log with its triggers lifted, then put them back."""
    db.session.remove()
    with db.engine.begin() as connection, append_only_lifted(connection):
        connection.execute(text(statement), params)


def test_each_entry_chains_onto_the_one_before(app):
    write(3)
    first, second, third = entries()
    assert first.prev_hash == GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.row_hash, second.row_hash)
    assert all(entry.row_hash == entry.computed_hash() for entry in (first, second, third))
    head = db.session.get(AuditChainHead, 1)
    assert (head.last_id, head.last_hash) == (third.id, third.row_hash)
    assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 3, "first_broken": None}


def test_entries_added_without_record_and_several_in_one_flush_are_chained_in_order(app):
    db.session.add_all([AuditEntry(action="a.first", target_type="Test"), AuditEntry(action="a.second",
                                                                                      target_type="Test")])
    db.session.flush()
    audit.record(db.session, None, "a.third", None, target_type="Test")
    db.session.commit()
    assert [e.action for e in entries()] == ["a.first", "a.second", "a.third"]
    assert audit.verify(db.session).ok


def test_an_empty_log_verifies(app):
    assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 0, "first_broken": None}


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x.forged' WHERE id = :id",
                                       "DELETE FROM audit_log WHERE id = :id"])
def test_the_database_refuses_to_change_or_delete_an_entry(app, statement):
    entry_id = write(1)[0]
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": entry_id})
    db.session.rollback()
    assert [e.action for e in entries()] == ["test.entry"]


def test_the_chain_head_neither_goes_back_nor_goes_away(app):
    write(2)
    with pytest.raises(DBAPIError, match="only moves forward"):
        db.session.execute(text("UPDATE audit_chain_head SET last_id = last_id - 1"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_chain_head"))
    db.session.rollback()


def test_an_edited_entry_is_found(app):
    ids = write(4)
    tamper("UPDATE audit_log SET details = :details WHERE id = :id", details='{"number": "7"}', id=ids[1])
    assert audit.verify(db.session).as_dict() == {"ok": False, "rows": 2, "first_broken": ids[1]}


def test_an_entry_whose_hash_was_recomputed_breaks_the_next_link(app):
    ids = write(3)
    forged = entries()[1]
    forged.action = "x.forged"
    new_hash = forged.computed_hash()
    db.session.rollback()
    tamper("UPDATE audit_log SET action = 'x.forged', row_hash = :h WHERE id = :id", h=new_hash, id=ids[1])
    assert audit.verify(db.session).first_broken == ids[2]


def test_a_deleted_entry_is_found_at_the_next_one(app):
    ids = write(4)
    tamper("DELETE FROM audit_log WHERE id = :id", id=ids[1])
    assert audit.verify(db.session).as_dict() == {"ok": False, "rows": 2, "first_broken": ids[2]}


def test_a_deleted_last_entry_is_found_through_the_head(app):
    ids = write(3)
    tamper("DELETE FROM audit_log WHERE id = :id", id=ids[2])
    assert audit.verify(db.session).as_dict() == {"ok": False, "rows": 2, "first_broken": ids[2]}


def test_an_entry_written_around_the_platform_is_found(app):
    ids = write(2)
    tamper("INSERT INTO audit_log (id, at, action, target_type, details, prev_hash, row_hash) "
           "VALUES (:id, CURRENT_TIMESTAMP, 'x.forged', 'Test', '{}', :h, :h)", id=ids[1] + 1, h="f" * 64)
    assert audit.verify(db.session).first_broken == ids[1] + 1


def test_verify_reads_the_log_in_batches(app, monkeypatch):
    monkeypatch.setattr(audit, "VERIFY_BATCH", 2)
    write(5)
    assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 5, "first_broken": None}


def test_two_writers_at_once_never_chain_onto_the_same_entry(app):
    """The first writer holds the chain head from its flush to its commit; the second waits for it."""
    write(1)
    flushed, release, errors = threading.Event(), threading.Event(), []

    def first():
        with app.app_context():
            try:
                audit.record(db.session, None, "race.first", None, target_type="Test")
                db.session.flush()
                flushed.set()
                release.wait(10)
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported below, not lost on the thread)
                errors.append(error)
                flushed.set()
            finally:
                db.session.remove()

    def second():
        with app.app_context():
            try:
                flushed.wait(10)
                audit.record(db.session, None, "race.second", None, target_type="Test")
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    db.session.remove()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    threading.Timer(0.5, release.set).start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    chain = entries()
    assert [e.action for e in chain] == ["test.entry", "race.first", "race.second"]
    assert audit.verify(db.session).as_dict() == {"ok": True, "rows": 3, "first_broken": None}
