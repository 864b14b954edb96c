"""Consents (信用主体授权): granting, checking and revoking, and the log of the views they allow.

Every view of a firm's data by a lender is checked against one consent and logged under exactly that
consent: an application's pages under the underwriting consent the application was made with (never
another consent of the firm to the same institution), the screening (在线优企筛选) under the firm's
screening consent to the institution, which is its release of identity.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from app.common.dates import local_date
from app.common.errors import NotAllowed
from app.common.vocab import DATA_CATEGORIES
from app.entities import Application, Consent, DataAccessLog
from app.entities.base import utcnow

from . import audit

UNDERWRITING = "underwriting"
SCREENING = "screening"
# An underwriting consent covers every data category (DESIGN §3 sources).
UNDERWRITING_CATEGORIES = DATA_CATEGORIES
# What the screening shows of a firm that released its identity: who it is (registration) and its grade.
SCREENING_CATEGORIES = ("registration", "credit_score")
# Of several consents in force, the one a view is logged under.
LONGEST_FIRST = (Consent.valid_to.desc(), Consent.id.desc())
# Why an application's consent no longer lets the lender see the firm's data, by the consent's status.
REFUSALS = {
    "revoked": _l("企业已撤回该申请的授权，不能再查看其信用评分、评分原因和数据。"),
    "paused": _l("企业已暂停该申请的授权，暂时不能查看其信用评分、评分原因和数据。"),
    "expired": _l("该申请的授权已过期，不能再查看企业的信用评分、评分原因和数据。"),
}


def _stage(session, subject, institution, user, purpose, purpose_text, categories, days, **terms):
    """Stage an active consent of `subject` to `institution` for `purpose`, valid from now for `days` days."""
    now = utcnow()
    consent = Consent(subject_id=subject.id, institution_id=institution.id, purpose_code=purpose,
                      purpose_text=purpose_text, data_categories=list(categories), valid_from=now,
                      valid_to=now + timedelta(days=days), status="active", granted_by_id=user.id, **terms)
    session.add(consent)
    session.flush()
    return consent


def grant_underwriting_consent(session, subject, institution, user, purpose_text):
    """Stage a short underwriting consent of `subject` for `institution` (PIPL art. 23)."""
    days = current_app.config["UNDERWRITING_CONSENT_DAYS"]
    today = local_date()
    consent = _stage(session, subject, institution, user, UNDERWRITING, purpose_text, UNDERWRITING_CATEGORIES, days,
                     data_from=today - timedelta(days=3 * 365), data_to=today, fetch_frequency="once",
                     data_life_days=days)
    audit.record(session, user, "consent.grant", consent, institution=institution.name)
    return consent


def grant_screening_consent(session, subject, institution, user):
    """Stage a consent letting `institution`'s screening show the subject's name, code, needs and grade.

    The lender keeps no copy (data life 0): each screening reads the data again, while the consent is in force.
    """
    return _stage(session, subject, institution, user, SCREENING,
                  _("在线优企筛选：向该机构展示本主体的名称、统一社会信用代码、融资需求和信用等级"),
                  SCREENING_CATEGORIES, current_app.config["SCREENING_CONSENT_DAYS"],
                  fetch_frequency="each_view", data_life_days=0)


def in_force(institution_id, purpose=UNDERWRITING, now=None):
    """The SQL condition "a consent to `institution_id` for `purpose`, in force at `now` (default: now)"."""
    return and_(Consent.institution_id == institution_id, Consent.purpose_code == purpose,
                Consent.is_in_force(now or utcnow()))


def released_subjects(session, subject_ids, now=None):
    """Those of `subject_ids` that have released their identity to a lender (a screening consent in force):
    their needs leave the platform with their name, the others' anonymised."""
    ids = list(set(subject_ids))
    if not ids:
        return set()
    return set(session.scalars(select(Consent.subject_id).where(
        Consent.subject_id.in_(ids), Consent.purpose_code == SCREENING, Consent.is_in_force(now or utcnow()))))


def consent_in_force(session, subject_id, institution_id, purpose=UNDERWRITING, now=None):
    """The subject's consent to the institution for the purpose in force now, or None.

    Of several, the one that runs longest (then the newest).
    """
    query = (select(Consent).where(Consent.subject_id == subject_id, in_force(institution_id, purpose, now))
             .order_by(*LONGEST_FIRST))
    return session.scalars(query).first()


def consents_in_force(institution_id, purpose=UNDERWRITING, now=None):
    """A subquery (subject_id, consent_id): for each subject, the consent `consent_in_force` returns."""
    number = func.row_number().over(partition_by=Consent.subject_id, order_by=LONGEST_FIRST)
    ranked = (select(Consent.subject_id, Consent.id.label("consent_id"), number.label("n"))
              .where(in_force(institution_id, purpose, now)).subquery())
    return select(ranked.c.subject_id, ranked.c.consent_id).where(ranked.c.n == 1).subquery()


def consent_ids_in_force(session, institution_id, subject_ids, purpose, now=None):
    """{subject id: consent id} for each of `subject_ids` with a consent to the institution for the purpose in force."""
    if not subject_ids:
        return {}
    per_subject = consents_in_force(institution_id, purpose, now)
    return dict(session.execute(select(per_subject.c.subject_id, per_subject.c.consent_id)
                                .where(per_subject.c.subject_id.in_(list(subject_ids)))).all())


def application_consent(session, application, now=None):
    """The consent `application` was made with, when it covers underwriting that application at `now`.

    Otherwise NotAllowed, saying why; no other consent of the firm to the institution stands in for it.
    """
    now = now or utcnow()
    consent = session.get(Consent, application.consent_id)
    if consent is not None and consent.covers(application.subject_id, application.institution_id, UNDERWRITING, now):
        return consent
    raise NotAllowed(_refusal(consent, application, now))


def _refusal(consent, application, now):
    """Why `consent` does not cover `application` at `now`, in the user's language."""
    parties = (application.subject_id, application.institution_id, UNDERWRITING)
    if consent is None or (consent.subject_id, consent.institution_id, consent.purpose_code) != parties:
        return _("该申请没有贷前审核用途的授权，不能查看企业的信用评分、评分原因和数据。")
    if consent.status == "active" and now >= consent.valid_to:
        return _("该申请的授权已于 %(date)s 到期，不能再查看企业的信用评分、评分原因和数据。",
                 date=local_date(consent.valid_to).isoformat())
    if consent.status == "active":
        return _("该申请的授权自 %(date)s 起生效，此前不能查看企业的信用评分、评分原因和数据。",
                 date=local_date(consent.valid_from).isoformat())
    return str(REFUSALS[consent.status])


def application_consent_joins(now=None):
    """The SQL form of `application_consent`, to join Consent to Application: the application's own consent,
    covering underwriting it at `now`."""
    return and_(Consent.id == Application.consent_id,
                Consent.covers(Application.subject_id, Application.institution_id, UNDERWRITING, now or utcnow()))


def revoke(session, consent, user):
    """Revoke an active consent; the lender stops seeing what it covered."""
    if consent.status_at(utcnow()) != "active":
        raise NotAllowed(_("该授权已不在有效状态。"))
    consent.status = "revoked"
    consent.revoked_at = utcnow()
    audit.record(session, user, "consent.revoke", consent)


def log_access(session, subject_id, user, consent, what, audited=True):
    """Stage a 查询记录 entry: who looked at which of the subject's data, under which consent; and its
    audit entry (`audited` False: the caller audits a list of views as one)."""
    session.add(DataAccessLog(subject_id=subject_id, user_id=user.id,
                              institution_id=user.institution_id,
                              consent_id=consent.id if consent else None,
                              purpose=consent.purpose_code if consent else "supervision", what=what))
    if audited:
        audit.record(session, user, "firm_data.view", None, target_type="CreditSubject", target_id=subject_id,
                     what=what, consent=consent.id if consent else "")


def log_views(session, user, views):
    """Stage a 查询记录 entry for each (subject id, consent id, what) of `views`, under that consent, and one
    audit entry naming every subject the page showed."""
    views = list(views)
    if not views:
        return
    by_id = {consent.id: consent for consent in session.scalars(
        select(Consent).where(Consent.id.in_({consent_id for _subject, consent_id, _what in views})))}
    for subject_id, consent_id, what in views:
        log_access(session, subject_id, user, by_id[consent_id], what, audited=False)
    audit.record(session, user, "firm_data.view", None, target_type="CreditSubject",
                 subjects=",".join(str(subject_id) for subject_id, _consent, _what in views), what=views[0][2],
                 count=len(views))


def consents_of(session, subject_id, purpose=None):
    """A subject's consents (of one purpose, or all), newest first."""
    query = select(Consent).where(Consent.subject_id == subject_id)
    if purpose is not None:
        query = query.where(Consent.purpose_code == purpose)
    return session.scalars(query.order_by(Consent.id.desc())).all()


def access_log_of(session, subject_id, limit=100):
    """The latest views of a subject's data, newest first."""
    return session.scalars(select(DataAccessLog).where(DataAccessLog.subject_id == subject_id)
                           .order_by(DataAccessLog.id.desc()).limit(limit)).all()
