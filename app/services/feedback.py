"""The lender's 贷后反馈 file: many of its loans' monthly status in one CSV (UTF-8 or GBK) or Excel upload.

The file is read and its cells checked against a declared schema by the ingestion engine; each good
row then goes through `loans.record_month`, the one writer of monthly status (state machine, audit
trail and optimistic lock included), in a savepoint of its own: a row that fails leaves nothing of
itself and is listed with its line and reason, and the other rows still load. A month already
reported with the same figures is "unchanged", so the same file sent twice adds nothing.

The file is one unit of work: the caller commits its loaded rows and its `FeedbackUpload` together.
A crash before that commit keeps nothing of the file, and sending it again loads it whole.
"""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.checksums import file_sha256
from app.common.dates import local_date, month_of
from app.common.errors import InvalidInput, NotAllowed, in_user_language
from app.common.exports import csv_text
from app.common.money import format_yuan
from app.common.vocab import LENDER_ROLES
from app.entities import FeedbackUpload, Institution, Loan, RepaymentOutcome
from app.entities.base import utcnow
from app.ingest.reading import UnreadableExport, read_export
from app.ingest.sources import Column, Source
from app.ingest.validation import ParsedColumns, find_rejects, normalise_cells, nul_cells, typed_frame

from . import audit, loans
from .applications import MAX_NOTE

# What 认定 may say; the codes are accepted too, for files written by a lender's own system.
DECLARED = {"违约": "defaulted", "核销": "written_off", "defaulted": "defaulted", "written_off": "written_off"}

FEEDBACK_FILE = Source(
    "loan_months", "金融机构", "贷后反馈（月度还款状态）", "贷后反馈_月度", (
        Column("贷款账号", "reference", "text", max_len=loans.MAX_REFERENCE),
        Column("报送月份", "month", "month"),
        Column("逾期天数", "days_past_due", "int", maximum=loans.MAX_DAYS_PAST_DUE),
        Column("贷款余额（元）", "outstanding", "money", unit="元"),
        Column("认定", "declared", "choice", choices=DECLARED, required=False),
        Column("说明", "note", "text", required=False, max_len=MAX_NOTE),
    ), natural_key=("reference", "month"), period="month")

# Excel turns 2026-03 into a date: read 2026/3, 2026-03-01, "2026-03-01 00:00:00" and 2026年3月 as that month.
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]\d{1,2}(?:\s+00:00(?::00)?)?)?")
# References looked up per query, well below any backend's limit of bound parameters.
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Row:
    """One well-formed row of the file: its line, the loan account and the month's figures."""

    line: int
    reference: str
    month: date
    days_past_due: int
    outstanding: Decimal
    declared: str | None
    note: str | None

    @property
    def figures(self):
        """What the row says about its month (a note is not a figure)."""
        return self.days_past_due, self.outstanding, self.declared


class Tally:
    """What loading a file did so far: rows loaded and unchanged, and the rejected rows' reasons by line."""

    def __init__(self):
        self.loaded = self.unchanged = 0
        self.rejects = {}

    def reject(self, line, reference, month, message):
        """Add `message` to the reasons of the row at `line`."""
        entry = self.rejects.setdefault(line, {"line": line, "reference": reference or "", "month": month or "",
                                               "messages": []})
        if message not in entry["messages"]:
            entry["messages"].append(message)

    def reject_row(self, row, message):
        """Reject a well-formed row."""
        self.reject(row.line, row.reference, row.month.strftime("%Y-%m"), message)

    def reject_list(self):
        """The rejected rows by line, each with its reasons in one message."""
        return [{"line": e["line"], "reference": e["reference"], "month": e["month"],
                 "message": "；".join(e["messages"])} for _line, e in sorted(self.rejects.items())]


def check_uploader(institution, user):
    """Refuse anyone but an active officer or admin of `institution`."""
    if user is None or not user.active or user.role not in LENDER_ROLES or user.institution_id != institution.id:
        raise NotAllowed(_("只有本机构的客户经理或机构管理员可以上传贷后反馈。"))


def find_institution(session, name_or_id):
    """The institution of that id or that name, or None."""
    text = str(name_or_id).strip()
    if text.isdigit() and (institution := session.get(Institution, int(text))) is not None:
        return institution
    return session.scalars(select(Institution).where(Institution.name == text)).first()


def upload(session, path, institution, uploader, now=None):
    """Load a 贷后反馈 file of `institution`'s loans sent by `uploader`; returns its FeedbackUpload (counts
    and rejects). A file that cannot be read as one (type, encoding, header, no rows) is refused whole
    with InvalidInput and nothing staged. Stages only: the caller commits."""
    check_uploader(institution, uploader)
    path = Path(path)
    tally = Tally()
    encoding, rows = read_rows(path, tally)
    record = FeedbackUpload(institution_id=institution.id, uploaded_by_id=uploader.id,
                            file_name=path.name, file_sha256=file_sha256(path), encoding=encoding,
                            rows_read=len(rows) + len(tally.rejects), received_at=now or utcnow())
    return _load(session, record, rows, uploader, tally, now)


def load_rows(session, rows, institution, uploader, name, sha256, now=None):
    """Load rows of many loans' monthly status sent by `uploader`'s system through the API, as a file's
    rows are loaded (same checks, per-row rejects, the same FeedbackUpload record named `name`)."""
    check_uploader(institution, uploader)
    record = FeedbackUpload(institution_id=institution.id, uploaded_by_id=uploader.id, file_name=name,
                            file_sha256=sha256, encoding=None, rows_read=len(rows), received_at=now or utcnow())
    return _load(session, record, list(rows), uploader, Tally(), now)


def _load(session, record, rows, uploader, tally, now):
    """Apply the well-formed `rows` under `record` and keep the figures and rejects on it."""
    session.add(record)
    session.flush()  # the reports point at it; on SQLite this also opens the transaction the savepoints need
    _apply(session, rows, record, uploader, tally, now)
    record.rows_loaded, record.rows_unchanged = tally.loaded, tally.unchanged
    record.rejects = tally.reject_list()
    record.rows_rejected = len(record.rejects)
    session.expire(record, ["reports"])  # reports of rows rolled back may linger in the collection
    audit.record(session, uploader, "loan.feedback_upload", record, file=record.file_name, sha256=record.file_sha256,
                 loaded=record.rows_loaded, unchanged=record.rows_unchanged, rejected=record.rows_rejected)
    return record


def read_rows(path, tally):
    """The file's encoding and its well-formed rows; rows with a bad cell go to `tally` with each
    cell's reason. InvalidInput when the file cannot be read as a 贷后反馈 file."""
    try:
        export = read_export(path, FEEDBACK_FILE)
    except UnreadableExport as error:
        raise InvalidInput(in_user_language(error.message, error.message_en), "file") from None
    if export.frame.empty:
        raise InvalidInput(_("文件中没有数据行。"), "file")
    cells = normalise_cells(export.frame)
    cells["month"] = cells["month"].map(_month_text, na_action="ignore")
    parsed = ParsedColumns()
    failures = find_rejects(cells, FEEDBACK_FILE, frozenset(), parsed)
    for name, mask in nul_cells(cells):
        failures = pd.concat([failures, pd.DataFrame({"index": cells.index[mask], "field": name, "reason": "nul"})])
    for index, field, reason in failures[["index", "field", "reason"]].itertuples(index=False):
        raw = export.frame.loc[index]
        tally.reject(int(index) + 2, _text(raw["reference"]), _text(raw["month"]), _cell_message(field, reason))
    typed = typed_frame(cells.drop(index=pd.unique(failures["index"])), FEEDBACK_FILE, parsed)
    return export.encoding, [_row(index, values) for index, values in typed.iterrows()]


def _month_text(cell):
    """A month cell as YYYY-MM when it is written as one of the forms `_MONTH` reads, else as it is."""
    found = _MONTH.fullmatch(cell)
    return f"{found[1]}-{int(found[2]):02d}" if found else cell


def _text(value):
    return "" if pd.isna(value) else str(value)


def _row(index, values):
    return Row(line=int(index) + 2, reference=values["reference"], month=values["month"].date(),
               days_past_due=int(values["days_past_due"]), outstanding=Decimal(f"{values['outstanding']:.2f}"),
               declared=None if pd.isna(values["declared"]) else values["declared"],
               note=None if pd.isna(values["note"]) else values["note"])


def _cell_message(field, reason):
    """What is wrong with a cell of `field` (a check named `reason` failed), in the user's language."""
    if reason == "nul":
        return _("含有空字符（NUL），无法保存。")
    if field == "reference":
        return _("请填写贷款账号（不超过 %(n)d 个字符）。", n=loans.MAX_REFERENCE)
    if field == "month":
        return _("报送月份应写作 YYYY-MM，如 2026-03。")
    if field == "days_past_due":
        return _("逾期天数应为 0 到 %(n)d 之间的整数。", n=loans.MAX_DAYS_PAST_DUE)
    if field == "outstanding":
        return _("贷款余额应在 0 与放款金额之间。") if reason == "range" else _("贷款余额应为以元为单位的数字。")
    if field == "declared":
        return _("认定只能填写“违约”或“核销”，或留空。")
    return _("说明不能超过 %(n)d 个字符。", n=MAX_NOTE)


def _apply(session, rows, record, uploader, tally, now):
    """Apply the rows loan by loan (in the order the file names the loans), each loan's in month order."""
    clashing = _clashing_lines(rows)
    by_loan = {}
    for row in rows:
        if row.line in clashing:
            tally.reject_row(row, _("同一贷款的同一月份在文件中出现多次且数值不同。"))
        else:
            by_loan.setdefault(row.reference, []).append(row)
    found = _loans_by_reference(session, record.institution_id, list(by_loan))
    for reference, own in by_loan.items():
        loan = found.get(reference)
        if loan is None:  # another institution's loan is not told apart from no loan at all
            for row in own:
                tally.reject_row(row, _("本机构没有贷款账号为“%(r)s”的贷款。", r=reference))
            continue
        _apply_to_loan(session, loan, sorted(own, key=lambda r: (r.month, r.line)), record, uploader, tally, now)


def _clashing_lines(rows):
    """Lines of rows whose loan and month recur in the file with other figures (all of them)."""
    figures = {}
    for row in rows:
        figures.setdefault((row.reference, row.month), set()).add(row.figures)
    return {row.line for row in rows if len(figures[(row.reference, row.month)]) > 1}


def _loans_by_reference(session, institution_id, references):
    """reference → the institution's loan, with its reports and application, for these references."""
    found = {}
    for start in range(0, len(references), LOOKUP_CHUNK):
        query = (select(Loan).where(Loan.institution_id == institution_id,
                                    Loan.reference.in_(references[start:start + LOOKUP_CHUNK]))
                 .options(selectinload(Loan.outcomes), selectinload(Loan.application)))
        found.update((loan.reference, loan) for loan in session.scalars(query))
    return found


def _apply_to_loan(session, loan, rows, record, uploader, tally, now):
    """Record one loan's rows in month order. After a row fails, the loan's later months wait: loading
    them would leave the failed month impossible to report once it is corrected."""
    failed_line = None
    for row in rows:
        reported = next((o for o in loan.outcomes if o.month == row.month), None)
        if reported is not None:
            if _same_figures(reported, row):
                tally.unchanged += 1
            else:
                tally.reject_row(row, _reported_otherwise(reported))
            continue
        if failed_line is not None:
            tally.reject_row(row, _("该贷款较早的月份（第 %(n)d 行）未能载入，本行未处理；更正后重新上传即可。",
                                    n=failed_line))
            continue
        try:
            with session.begin_nested():
                loans.record_month(session, loan, uploader, row.month, row.days_past_due, row.outstanding,
                                   row.declared, row.note, now=now, upload=record)
        except (InvalidInput, NotAllowed) as error:
            _forget(session, loan)
            tally.reject_row(row, error.message)
            failed_line = row.line
        else:
            tally.loaded += 1


def _reported_otherwise(report):
    """Why a row is refused whose month was reported with other figures."""
    return _("%(m)s 已报送为逾期 %(d)d 天、余额 %(b)s 元，与本行不同；已报送的月份不能更改。",
             m=report.month.strftime("%Y-%m"), d=report.days_past_due, b=format_yuan(report.amount_outstanding))


def _same_figures(report, row):
    """Whether a stored report says what the row says."""
    return (report.days_past_due == row.days_past_due and report.amount_outstanding == row.outstanding
            and report.outcome == loans.outcome_of(row.days_past_due, row.outstanding, row.declared))


def _forget(session, loan):
    """After a row's savepoint rolled back, read the loan and its application again: the optimistic
    lock sets their state in memory as committed, which the rollback does not undo."""
    application = loan.application
    session.expire(loan)
    if application is not None:
        session.expire(application)


def summary(record):
    """An upload's figures and rejects, JSON-ready; `ok` when some row loaded or was already there."""
    return {"ok": record.rows_loaded + record.rows_unchanged > 0, "upload": record.id,
            "institution": record.institution_id, "file": record.file_name, "sha256": record.file_sha256,
            "rows_read": record.rows_read, "loaded": record.rows_loaded, "unchanged": record.rows_unchanged,
            "rejected": record.rows_rejected, "rejects": record.rejects}


def loaded_reports(session, record):
    """The monthly reports an upload wrote, with their loans, in the order they were written."""
    return session.scalars(select(RepaymentOutcome).where(RepaymentOutcome.upload_id == record.id)
                           .options(selectinload(RepaymentOutcome.loan)).order_by(RepaymentOutcome.id)).all()


def uploads_of(session, institution_id, limit=20):
    """The institution's latest uploads, newest first."""
    return session.scalars(select(FeedbackUpload).where(FeedbackUpload.institution_id == institution_id)
                           .options(selectinload(FeedbackUpload.uploaded_by))
                           .order_by(FeedbackUpload.id.desc()).limit(limit)).all()


def template_csv(session, institution_id, today=None):
    """A CSV to fill in (UTF-8 with BOM, as Excel opens it): the header, then one row per loan of the
    institution still taking reports whose month `today` is not reported yet, with its account and month."""
    month = month_of(today or local_date())
    query = (select(Loan).where(Loan.institution_id == institution_id,
                                Loan.status.not_in(list(loans.CLOSED_LOAN_STATUSES)))
             .options(selectinload(Loan.outcomes)).order_by(Loan.reference))
    rows = ([loan.reference, month.strftime("%Y-%m"), "", "", "", ""] for loan in session.scalars(query)
            if loan.latest_outcome is None or loan.latest_outcome.month < month)
    return csv_text([column.header for column in FEEDBACK_FILE.columns], rows)
