"""The credit report (信用报告): what it holds, issuing it with a verification hash, and checking one.

A report's content is a plain dict in the reader's language; its canonical form (sorted-key JSON,
UTF-8) is hashed with sha256, the hash is stored with the report's public code, printed on the PDF,
and the canonical JSON itself travels inside the PDF as an attachment, so anyone can hash it again.
The firm downloads its own report; a lender downloads an applicant's only under the application's
own consent in force, and each download is logged in 查询记录 under that consent.
"""
import hashlib
import json
import re
import secrets
from datetime import date, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.common import vocab
from app.common.dates import add_months, local_date
from app.common.money import format_yuan
from app.common.region import town_name
from app.credit.reasons import reason_sentence
from app.credit.scoring import latest_score
from app.entities import (
    DataAccessLog,
    Institution,
    ListEntry,
    RepairRequest,
    ReportIssue,
    SourceRecord,
)
from app.entities.base import utcnow
from app.ingest.sources import SOURCE_NAMES_EN, SOURCES, choice_label, get_source
from app.matching.rules import SECTION_NAMES, section_of

from . import consents, list_kinds

CODE = re.compile(r"[0-9A-F]{16}")
SHA256 = re.compile(r"[0-9a-f]{64}")
FIRM = "firm"
INSTITUTION = "institution"
# The longest publicity period of an administrative penalty by severity, in months (信用修复管理办法:
# minor ones are not published, or for at most 3 months; general 3 months to 1 year; serious 1 to 3 years),
# used when the department's record does not state its own end date.
LONGEST_PUBLICITY_MONTHS = {"minor": 3, "general": 12, "serious": 36}


def canonical(content):
    """The report's content as the bytes its hash is taken of: sorted-key JSON in UTF-8."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(content_bytes):
    """The sha256 (hex) of canonical report bytes."""
    return hashlib.sha256(content_bytes).hexdigest()


def _choice(source_name, column_name, code):
    """A department's word for a coded value of one of its columns (e.g. 一般 for `general`)."""
    if not code:
        return ""
    return choice_label(get_source(source_name).column(column_name), code, str(get_locale()) == "en")


def _day(text):
    return date.fromisoformat(text[:10]) if text else None


def _current(session, subject_id, source):
    return session.execute(
        select(SourceRecord.id, SourceRecord.payload)
        .where(SourceRecord.subject_id == subject_id, SourceRecord.source == source,
               SourceRecord.superseded_by_id.is_(None))
        .order_by(SourceRecord.period.desc(), SourceRecord.id.desc())).all()


def subject_facts(subject):
    """Name, code, kind, town, industry and registration date of the subject."""
    section = section_of(subject.industry_code)
    industry = subject.industry_code or ""
    if section:
        industry = f"{industry} {SECTION_NAMES[section]}"
    return {"name": subject.name, "code": subject.uscc or subject.household_id or "",
            "kind": vocab.SUBJECT_KINDS.label(subject.kind), "town": town_name(subject.town_code),
            "industry": industry or _("未登记"),
            "established_on": subject.established_on.isoformat() if subject.established_on else _("未登记")}


def data_sources(session, subject_id):
    """Per department source the subject has current records of: its name, record count, first and last month."""
    rows = session.execute(
        select(SourceRecord.source, func.count(), func.min(SourceRecord.period), func.max(SourceRecord.period))
        .where(SourceRecord.subject_id == subject_id, SourceRecord.superseded_by_id.is_(None))
        .group_by(SourceRecord.source)).all()
    found = {name: (count, first, last) for name, count, first, last in rows}
    english = str(get_locale()) == "en"
    return [{"source": vocab.SOURCE_NAMES.label(s.name) if s.name in vocab.SOURCE_NAMES
             else (SOURCE_NAMES_EN[s.name][1] if english else s.title),
             "department": SOURCE_NAMES_EN[s.name][0] if english else s.department,
             "records": found[s.name][0],
             "first": found[s.name][1].isoformat()[:7] if found[s.name][1] else "—",
             "last": found[s.name][2].isoformat()[:7] if found[s.name][2] else "—"}
            for s in SOURCES if s.name in found]


def score_part(session, subject_id):
    """The latest score, grade, data date and reasons in plain words; None when the subject has no score."""
    score = latest_score(session, subject_id)
    if score is None:
        return None
    english = str(get_locale()) == "en"
    reasons = []
    for reason in score.reasons or []:
        chinese, in_english = reason_sentence(reason)
        reasons.append({"text": in_english if english else chinese,
                        "raises_risk": bool(reason.get("contribution", 0) > 0)})
    return {"score": score.score, "grade": score.grade, "data_as_of": score.data_as_of.isoformat(),
            "reasons": reasons}


def publicity_end(payload):
    """(end date, stated) of a penalty's publicity: the department's date, or the longest the rules allow for
    its severity from the decision date (stated False); (None, True) for a minor one that is not published."""
    stated = _day(payload.get("publicity_until"))
    if stated:
        return stated, True
    decided = _day(payload.get("decided_on"))
    months = LONGEST_PUBLICITY_MONTHS.get(payload.get("severity"))
    if decided is None or months is None:
        return None, True
    return add_months(decided, months) - timedelta(days=1), False


def _repair_status(payload, end, today, repair):
    if payload.get("repaired"):
        return _("已信用修复")
    if repair is not None and repair.status == "open":
        return _("信用修复申请处理中")
    if end is None:
        return _("不公示")
    return _("公示期已满") if end < today else _("公示中，可申请信用修复")


def penalties(session, subject_id, today):
    """The subject's administrative penalties with their publicity end dates and repair status."""
    records = _current(session, subject_id, "penalty")
    repairs = {r.source_record_id: r for r in session.scalars(
        select(RepairRequest).where(RepairRequest.subject_id == subject_id).order_by(RepairRequest.id))}
    rows = []
    for record_id, p in records:
        end, stated = publicity_end(p)
        shown = end.isoformat() if end else "—"
        rows.append({"decision_no": p.get("decision_no", ""), "authority": p.get("authority", ""),
                     "decided_on": p.get("decided_on", "")[:10], "severity": _choice("penalty", "severity",
                                                                                    p.get("severity")),
                     "fine_yuan": format_yuan(p["fine"]) if p.get("fine") is not None else "—",
                     "publicity_until": shown if stated else _("%(date)s（按处罚程度的最长公示期推算）", date=shown),
                     "status": _repair_status(p, end, today, repairs.get(record_id))})
    return rows


def court_cases(session, subject_id):
    """The subject's court cases: role, cause, amount, filing date, status, 失信被执行人."""
    return [{"case_no": c.get("case_no", ""), "role": _choice("court_case", "role", c.get("role")),
             "cause": c.get("cause", ""), "amount_wan": str(c.get("amount", "—")),
             "filed_on": c.get("filed_on", "")[:10], "status": _choice("court_case", "status", c.get("status")),
             "dishonest": _("是") if c.get("dishonest") else _("否")}
            for _id, c in _current(session, subject_id, "court_case")]


def list_entries(session, subject_id):
    """Red and black list entries about the subject, newest first."""
    entries = session.scalars(select(ListEntry).where(ListEntry.subject_id == subject_id)
                              .order_by(ListEntry.listed_on.desc(), ListEntry.id.desc()))
    return [{"list": vocab.LIST_TYPES.label(e.list_type),
             "name": list_kinds.list_words(e.list_kind, "name", e.list_name), "reason": e.reason,
             "listed_on": e.listed_on.isoformat(), "removed_on": e.removed_on.isoformat() if e.removed_on else "—",
             "status": _("有效") if e.status == "active" else _("已移出")} for e in entries]


def access_summary(session, subject_id):
    """Who looked at the subject's data: per institution, purpose and consent, how often, first and last time."""
    rows = session.execute(
        select(Institution.name, DataAccessLog.purpose, DataAccessLog.consent_id, func.count(),
               func.min(DataAccessLog.at), func.max(DataAccessLog.at))
        .select_from(DataAccessLog).outerjoin(Institution, Institution.id == DataAccessLog.institution_id)
        .where(DataAccessLog.subject_id == subject_id)
        .group_by(Institution.name, DataAccessLog.purpose, DataAccessLog.consent_id)
        .order_by(func.max(DataAccessLog.at).desc())).all()
    return [{"who": name or _("监管部门"), "purpose": vocab.PURPOSES.label(purpose),
             "consent": f"#{consent_id}" if consent_id else "—", "views": count,
             "first": local_date(first).isoformat(), "last": local_date(last).isoformat()}
            for name, purpose, consent_id, count, first, last in rows]


def content_of(session, subject, code, issued_at, issued_to):
    """The whole report of `subject` as plain data in the reader's language (what the hash covers)."""
    today = local_date(issued_at)
    return {"report": {"code": code, "issued_at": issued_at.isoformat(timespec="seconds"),
                       "as_of": today.isoformat(), "issued_to": issued_to, "language": str(get_locale())},
            "subject": subject_facts(subject), "sources": data_sources(session, subject.id),
            "score": score_part(session, subject.id), "penalties": penalties(session, subject.id, today),
            "court_cases": court_cases(session, subject.id), "lists": list_entries(session, subject.id),
            "access": access_summary(session, subject.id)}


def _issue(session, subject, user, institution):
    """Stage the ReportIssue row of a new report of `subject`; (its row, content, canonical bytes)."""
    issued_at = utcnow().replace(microsecond=0)
    code = secrets.token_hex(8).upper()
    issued_to = institution.name if institution is not None else subject.name
    content = content_of(session, subject, code, issued_at, issued_to)
    body = canonical(content)
    issue = ReportIssue(code=code, subject_id=subject.id, issued_at=issued_at, as_of=local_date(issued_at),
                        sha256=digest(body), issued_to=INSTITUTION if institution is not None else FIRM,
                        institution_id=institution.id if institution is not None else None, issued_by_id=user.id)
    session.add(issue)
    session.flush()
    return issue, content, body


def issue_to_firm(session, subject, user):
    """A new report of the firm's own data, issued to the firm: (ReportIssue, content, canonical bytes)."""
    return _issue(session, subject, user, None)


def issue_to_lender(session, application, user, now=None):
    """A new report of an applicant issued to the application's institution, only under the application's own
    consent in force (NotAllowed saying why otherwise), logged in 查询记录 under that consent."""
    consent = consents.application_consent(session, application, now)
    consents.log_access(session, application.subject_id, user, consent, f"report:application:{application.id}")
    return _issue(session, application.subject, user, session.get(Institution, application.institution_id))


def verify(session, code, sha256):
    """The ReportIssue of `code` when `sha256` is its hash (any letter case), else None."""
    code, sha256 = (code or "").strip().upper(), (sha256 or "").strip().lower()
    if not (CODE.fullmatch(code) and SHA256.fullmatch(sha256)):
        return None
    issue = session.scalars(select(ReportIssue).where(ReportIssue.code == code)).first()
    return issue if issue is not None and secrets.compare_digest(issue.sha256, sha256) else None


def masked_name(name):
    """A subject's name with all but its first and last two characters hidden, e.g. 陈炉***公司."""
    if len(name) <= 3:
        return name[:1] + "*" * (len(name) - 1)
    return name[:2] + "*" * max(len(name) - 4, 1) + name[-2:]
