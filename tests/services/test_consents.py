"""Consents: which one is in force, revoking, and the log of every view of a subject's data."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.common.errors import NotAllowed
from app.entities import Application, AuditEntry, Consent, DataAccessLog
from app.entities.base import utcnow
from app.extensions import db
from app.services.consents import (
    access_log_of,
    application_consent,
    application_consent_joins,
    consent_ids_in_force,
    consent_in_force,
    consents_in_force,
    log_access,
    log_views,
    revoke,
)

from .. import factories


@pytest.fixture
def parties(app):
    """A subject, two institutions and the subject's firm user, committed."""
    subject = factories.SubjectFactory()
    bank, other_bank = factories.InstitutionFactory(), factories.InstitutionFactory()
    firm = factories.UserFactory(role="firm", subject=subject)
    db.session.commit()
    return {"subject": subject, "bank": bank, "other_bank": other_bank, "firm": firm}


def consent(parties, **values):
    made = factories.ConsentFactory(subject_id=parties["subject"].id, institution_id=parties["bank"].id,
                                    **values)
    db.session.commit()
    return made


def in_force(parties, institution="bank", purpose="underwriting"):
    return consent_in_force(db.session, parties["subject"].id, parties[institution].id, purpose)


def test_an_active_consent_inside_its_window_is_in_force(parties):
    given = consent(parties)
    assert in_force(parties) == given
    assert given.is_in_force(utcnow())


def test_the_longest_running_consent_is_returned(parties):
    consent(parties, valid_to=utcnow() + timedelta(days=5))
    longest = consent(parties, valid_to=utcnow() + timedelta(days=60))
    assert in_force(parties) == longest


@pytest.mark.parametrize("values", [
    {"status": "revoked"},
    {"status": "paused"},
    {"status": "expired"},
    {"valid_to": timedelta(seconds=-1)},
    {"valid_from": timedelta(days=-31), "valid_to": timedelta(days=-1)},
    {"valid_from": timedelta(hours=1)},
], ids=["revoked", "paused", "status-expired", "just-ended", "window-passed", "not-yet-started"])
def test_a_consent_not_active_or_outside_its_window_is_not_in_force(parties, values):
    now = utcnow()  # times are offsets from the moment the test runs
    consent(parties, **{k: now + v if isinstance(v, timedelta) else v for k, v in values.items()})
    assert in_force(parties) is None


NOW = datetime(2026, 3, 1, 12, 0, 0)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("status, valid_from, valid_to, expected", [
    ("active", NOW, NOW + SECOND, True),
    ("active", NOW + SECOND, NOW + 2 * SECOND, False),
    ("active", NOW - SECOND, NOW, False),
    ("active", NOW - 2 * SECOND, NOW - SECOND, False),
    ("paused", NOW - SECOND, NOW + SECOND, False),
    ("revoked", NOW - SECOND, NOW + SECOND, False),
    ("expired", NOW - SECOND, NOW + SECOND, False),
], ids=["starts-now", "starts-later", "ends-now", "ended", "paused", "revoked", "status-expired"])
def test_in_force_means_active_from_valid_from_up_to_but_not_at_valid_to(parties, status, valid_from, valid_to,
                                                                       expected):
    given = consent(parties, status=status, valid_from=valid_from, valid_to=valid_to)
    subject_id, bank_id = parties["subject"].id, parties["bank"].id
    # The Python test and every SQL form agree at each boundary.
    assert given.is_in_force(NOW) is expected
    assert (consent_in_force(db.session, subject_id, bank_id, now=NOW) == given) is expected
    found_ids = consent_ids_in_force(db.session, bank_id, [subject_id], "underwriting", now=NOW)
    assert (found_ids == {subject_id: given.id}) is expected
    per_subject = consents_in_force(bank_id, now=NOW)
    found = db.session.execute(select(per_subject.c.subject_id, per_subject.c.consent_id)).all()
    assert (found == [(subject_id, given.id)]) is expected


def test_every_form_picks_the_longest_running_consent_then_the_newest(parties):
    # The ranking's old copy took the newest consent while the application page took the longest one,
    # so the same view was logged under two different consents.
    longest = consent(parties, valid_to=utcnow() + timedelta(days=60))
    consent(parties, valid_to=utcnow() + timedelta(days=5))
    twin = consent(parties, valid_to=longest.valid_to)
    per_subject = consents_in_force(parties["bank"].id)
    assert db.session.execute(select(per_subject.c.consent_id)).scalars().all() == [twin.id]
    assert in_force(parties) == twin


def test_consents_in_force_has_one_line_per_subject_with_one(parties):
    other = factories.SubjectFactory()
    unconsented = factories.SubjectFactory()
    mine = consent(parties)
    theirs = factories.ConsentFactory(subject_id=other.id, institution_id=parties["bank"].id)
    factories.ConsentFactory(subject_id=unconsented.id, institution_id=parties["bank"].id, status="revoked")
    factories.ConsentFactory(subject_id=unconsented.id, institution_id=parties["other_bank"].id)
    db.session.commit()
    per_subject = consents_in_force(parties["bank"].id)
    assert set(db.session.execute(select(per_subject.c.subject_id, per_subject.c.consent_id)).all()) == {
        (parties["subject"].id, mine.id), (other.id, theirs.id)}
    ids = [parties["subject"].id, other.id, unconsented.id]
    bank_id = parties["bank"].id
    assert consent_ids_in_force(db.session, bank_id, ids, "underwriting") == {parties["subject"].id: mine.id,
                                                                               other.id: theirs.id}
    assert consent_ids_in_force(db.session, bank_id, ids, "monitoring") == {}
    assert consent_ids_in_force(db.session, bank_id, [], "underwriting") == {}


def test_a_consent_for_another_institution_is_not_in_force(parties):
    consent(parties)
    assert in_force(parties, institution="other_bank") is None


def test_a_consent_for_another_purpose_is_not_in_force(parties):
    consent(parties, purpose_code="monitoring")
    assert in_force(parties) is None
    assert in_force(parties, purpose="monitoring") is not None


def test_a_consent_of_another_subject_is_not_in_force(parties):
    other = factories.SubjectFactory()
    factories.ConsentFactory(subject_id=other.id, institution_id=parties["bank"].id)
    db.session.commit()
    assert in_force(parties) is None


def test_revoke_ends_the_consent_and_is_audited(parties):
    given = consent(parties)
    revoke(db.session, given, parties["firm"])
    db.session.commit()
    assert given.status == "revoked"
    assert given.revoked_at is not None
    assert in_force(parties) is None
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "consent.revoke"
    assert (entry.target_type, entry.target_id, entry.actor_id) == ("Consent", given.id, parties["firm"].id)


def test_a_consent_whose_window_has_ended_reads_expired_and_cannot_be_revoked(parties):
    ended = consent(parties, valid_to=utcnow() - SECOND)
    assert ended.status_at(utcnow()) == "expired" and ended.status_at(ended.valid_to - SECOND) == "active"
    with pytest.raises(NotAllowed):
        revoke(db.session, ended, parties["firm"])
    assert ended.status == "active" and ended.revoked_at is None
    assert consent(parties, status="revoked").status_at(utcnow()) == "revoked"


def test_revoke_twice_is_not_allowed(parties):
    given = consent(parties)
    revoke(db.session, given, parties["firm"])
    db.session.commit()
    revoked_at = given.revoked_at
    with pytest.raises(NotAllowed) as caught:
        revoke(db.session, given, parties["firm"])
    assert "有效状态" in caught.value.message
    assert given.revoked_at == revoked_at
    assert not db.session.new


def test_log_access_records_who_looked_under_which_consent(parties):
    given = consent(parties)
    officer = factories.UserFactory(role="lender_officer", institution=parties["bank"])
    db.session.commit()
    log_access(db.session, parties["subject"].id, officer, given, "信用报告")
    db.session.commit()
    row = db.session.scalars(select(DataAccessLog)).one()
    assert row.subject_id == parties["subject"].id
    assert row.user_id == officer.id
    assert row.institution_id == parties["bank"].id
    assert row.consent_id == given.id
    assert row.purpose == "underwriting"
    assert row.what == "信用报告"
    assert row.at is not None
    assert access_log_of(db.session, parties["subject"].id) == [row]
    viewed = db.session.scalars(select(AuditEntry)).one()
    assert (viewed.action, viewed.actor_id, viewed.target_type, viewed.target_id) == (
        "firm_data.view", officer.id, "CreditSubject", parties["subject"].id)
    assert viewed.details == {"what": "信用报告", "consent": str(given.id)}


def test_a_list_of_views_is_one_audit_entry_naming_every_firm(parties):
    given = consent(parties)
    other = factories.SubjectFactory()
    other_consent = factories.ConsentFactory(subject_id=other.id, institution_id=parties["bank"].id)
    officer = factories.UserFactory(role="lender_officer", institution=parties["bank"])
    db.session.commit()
    log_views(db.session, officer, [(parties["subject"].id, given.id, "ranking:application:1"),
                                    (other.id, other_consent.id, "ranking:application:2")])
    db.session.commit()
    assert len(db.session.scalars(select(DataAccessLog)).all()) == 2
    viewed = db.session.scalars(select(AuditEntry)).one()
    assert viewed.action == "firm_data.view" and viewed.details["count"] == "2"
    assert viewed.details["subjects"] == f"{parties['subject'].id},{other.id}"


def test_log_access_without_consent_is_recorded_as_supervision(parties):
    regulator = factories.UserFactory(role="regulator")
    db.session.commit()
    log_access(db.session, parties["subject"].id, regulator, None, "监管抽查")
    db.session.commit()
    row = db.session.scalars(select(DataAccessLog)).one()
    assert (row.user_id, row.institution_id, row.consent_id) == (regulator.id, None, None)
    assert row.purpose == "supervision"


@pytest.mark.parametrize("change, refusal", [
    ({}, None),
    ({"status": "revoked"}, "企业已撤回该申请的授权"),
    ({"status": "paused"}, "企业已暂停该申请的授权"),
    ({"status": "expired"}, "该申请的授权已过期"),
    ({"valid_to": -SECOND}, "该申请的授权已于"),
    ({"valid_from": timedelta(hours=1)}, "起生效"),
    ({"purpose_code": "monitoring"}, "没有贷前审核用途的授权"),
    ({"purpose_code": "screening"}, "没有贷前审核用途的授权"),
    ({"institution": "bank_b"}, "没有贷前审核用途的授权"),
], ids=["in-force", "revoked", "paused", "status-expired", "window-ended", "not-yet-valid", "monitoring",
        "screening", "other-institution"])
def test_an_application_is_covered_by_its_own_consent_only(world, change, refusal):
    # Another underwriting consent of the firm to bank A, in force and running longer, never stands in.
    factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                             valid_to=utcnow() + timedelta(days=90))
    own, application, now = world["consent"], world["application"], utcnow()
    for name, value in change.items():
        if name == "institution":
            own.institution_id = world[value].id
        else:
            setattr(own, name, now + value if isinstance(value, timedelta) else value)
    db.session.commit()
    joined = db.session.scalars(select(Consent.id).select_from(Application)
                                .join(Consent, application_consent_joins(now))
                                .where(Application.id == application.id)).all()
    if refusal is None:
        assert application_consent(db.session, application, now) == own and joined == [own.id]
        return
    with pytest.raises(NotAllowed) as refused:
        application_consent(db.session, application, now)
    assert refusal in refused.value.message and joined == []
