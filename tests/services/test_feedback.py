"""The lender's 贷后反馈 file: each good row moves its loan through loans.record_month, each bad row is
listed with its line and reason and leaves nothing, and the same file twice adds nothing."""
import csv
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import func, select

from app.common.dates import add_months, local_date, month_of
from app.common.errors import InvalidInput, NotAllowed
from app.entities import ApplicationEvent, AuditEntry, FeedbackUpload, Loan, RepaymentOutcome
from app.extensions import db
from app.services import feedback, loans

from .. import factories

HEADER = ["贷款账号", "报送月份", "逾期天数", "贷款余额（元）", "认定", "说明"]


def count(entity, *where):
    return db.session.scalar(select(func.count(entity.id)).where(*where))


def month(ago):
    """A month `ago` months before this one, as the file writes it."""
    return add_months(month_of(local_date()), -ago).strftime("%Y-%m")


def write_csv(folder, rows, header=HEADER, encoding="utf-8-sig", name="贷后反馈.csv"):
    path = folder / name
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def send(world, path, user="officer"):
    """Upload `path` as bank A's `user` and commit, as the page and the command do."""
    record = feedback.upload(db.session, path, world["bank_a"], world["users"][user])
    db.session.commit()
    db.session.expire_all()
    return record


def loan_named(reference, institution_id):
    return db.session.scalars(select(Loan).where(Loan.reference == reference,
                                                 Loan.institution_id == institution_id)).one()


@pytest.fixture
def four_loans(world):
    """Four loans of bank A, disbursed five months ago and not reported on yet."""
    made = {ref: factories.add_loan(world, ref) for ref in ("L-1", "L-2", "L-3", "L-4")}
    db.session.commit()
    return made


def good_rows():
    """Rows for the four loans: repaying twice, overdue into the 31–90 band, declared defaulted, repaid."""
    return [
        ["L-1", month(3), "0", "300000", "", ""],  # before its earlier month in the file: applied after it
        ["L-1", month(4), "0", "350,000.00", "", "按期还款"],
        ["L-2", month(4), "15", "380000", "", ""],
        ["L-2", month(3), "45", "380000", "", "已催收"],
        ["L-3", month(4), "100", "390000", "违约", "已起诉"],
        ["L-4", month(4), "0", "200000", "", ""],
        ["L-4", month(3), "0", "0", "", "提前结清"],
    ]


def test_a_good_file_moves_each_loan_through_the_monthly_report(world, four_loans, tmp_path):
    record = send(world, write_csv(tmp_path, good_rows()))
    assert (record.rows_read, record.rows_loaded, record.rows_unchanged, record.rows_rejected) == (7, 7, 0, 0)
    assert record.rejects == [] and record.uploaded_by_id == world["users"]["officer"].id
    assert record.institution_id == world["bank_a"].id and len(record.file_sha256) == 64
    expected = {"L-1": "repaying", "L-2": "overdue", "L-3": "defaulted", "L-4": "repaid"}
    for reference, status in expected.items():
        loan = loan_named(reference, world["bank_a"].id)
        assert (loan.status, loan.application.status) == (status, status), reference
        assert all(o.upload_id == record.id for o in loan.outcomes)
    first = loan_named("L-1", world["bank_a"].id)
    assert [(o.month.strftime("%Y-%m"), o.amount_outstanding, o.note) for o in first.outcomes] == [
        (month(4), Decimal("350000.00"), "按期还款"), (month(3), Decimal("300000.00"), None)]
    assert [e.to_status for e in first.application.events] == ["repaying"]  # a second repaying month moves nothing
    second = loan_named("L-2", world["bank_a"].id)
    assert [e.note for e in second.application.events] == [month(4)]
    assert [(o.days_past_due, o.note) for o in second.outcomes] == [(15, None), (45, "已催收")]
    assert len(feedback.loaded_reports(db.session, record)) == 7
    reports = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "loan.report")).all()
    assert len(reports) == 7 and {a.details["upload"] for a in reports} == {str(record.id)}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "loan.feedback_upload")).one()
    assert entry.target_id == record.id and entry.details["loaded"] == "7"


def test_bad_rows_are_listed_with_their_lines_while_the_good_rows_load(world, four_loans, tmp_path):
    other_bank = factories.add_loan(world, "B-1", institution=world["bank_b"])
    loans.record_month(db.session, four_loans["L-2"], world["users"]["officer"], month_of(local_date()), 0,
                       Decimal("300000"))
    factories.add_loan(world, "CLOSED-1", status="repaid")
    db.session.commit()
    rows = [
        ["L-1", month(4), "0", "350000", "", ""],       # 2: good
        ["NO-SUCH", month(4), "0", "1", "", ""],        # 3: unknown reference
        ["B-1", month(4), "0", "1", "", ""],            # 4: another institution's loan
        ["L-3", "2026-13", "0", "1", "", ""],           # 5: malformed month
        ["L-3", month(7), "0", "1", "", ""],            # 6: before the disbursement
        ["L-1", month(-1), "0", "1", "", ""],           # 7: a month still to come
        ["L-4", month(4), "-3", "1", "", ""],           # 8: negative days past due
        ["L-4", month(3), "0", "400000.01", "", ""],    # 9: balance above the principal
        ["L-4", month(2), "5", "1", "逾期", ""],         # 10: unknown declared outcome
        ["L-2", month(3), "0", "300000", "", ""],       # 11: earlier than a reported month
        ["CLOSED-1", month(4), "0", "0", "", ""],       # 12: repaid loan
        ["", month(4), "x", "", "", ""],               # 13: no reference, days not a number, no balance
    ]
    record = send(world, write_csv(tmp_path, rows))
    assert (record.rows_read, record.rows_loaded, record.rows_rejected) == (12, 1, 11)
    reasons = {r["line"]: r["message"] for r in record.rejects}
    assert sorted(reasons) == list(range(3, 14))
    expected = {3: "本机构没有贷款账号为“NO-SUCH”的贷款", 4: "本机构没有贷款账号为“B-1”的贷款",
                5: "报送月份应写作 YYYY-MM", 6: "报送月份应在放款月份", 7: "报送月份应在放款月份",
                8: "逾期天数应为 0 到 3650 之间的整数", 9: "贷款余额应在 0 与放款金额之间",
                10: "认定只能填写“违约”或“核销”", 11: "及以前的月份已报送", 12: "不再报送月度状态",
                13: "请填写贷款账号"}
    for line, words in expected.items():
        assert words in reasons[line], (line, reasons[line])
    assert "逾期天数应为" in reasons[13] and "贷款余额应为以元为单位的数字" in reasons[13]
    assert {r["reference"] for r in record.rejects if r["line"] in (3, 8)} == {"NO-SUCH", "L-4"}
    assert count(RepaymentOutcome) == 2  # L-2's month from the page, L-1's row from the file
    assert loan_named("L-1", world["bank_a"].id).status == "repaying"
    assert (loan_named("L-4", world["bank_a"].id).status, other_bank.outcomes) == ("disbursed", [])


def test_after_a_loans_row_fails_its_later_months_wait_for_the_corrected_file(world, four_loans, tmp_path):
    rows = [["L-1", month(4), "0", "500000", "", ""], ["L-1", month(3), "0", "300000", "", ""],
            ["L-2", month(4), "0", "300000", "", ""]]
    record = send(world, write_csv(tmp_path, rows))
    assert (record.rows_loaded, [r["line"] for r in record.rejects]) == (1, [2, 3])
    assert "第 2 行" in record.rejects[1]["message"]
    rows[0][3] = "350000"
    again = send(world, write_csv(tmp_path, rows, name="更正.csv"))
    assert (again.rows_loaded, again.rows_unchanged, again.rows_rejected) == (2, 1, 0)
    assert [o.month.strftime("%Y-%m") for o in loan_named("L-1", world["bank_a"].id).outcomes] == [month(4), month(3)]


def test_the_same_file_twice_adds_nothing(world, four_loans, tmp_path):
    path = write_csv(tmp_path, [*good_rows(), ["NO-SUCH", month(4), "0", "1", "", ""]])
    first = send(world, path)
    written = (count(RepaymentOutcome), count(ApplicationEvent), count(AuditEntry, AuditEntry.action == "loan.report"))
    second = send(world, path)
    assert (first.rows_loaded, first.rows_unchanged, first.rows_rejected) == (7, 0, 1)
    assert (second.rows_loaded, second.rows_unchanged, second.rows_rejected) == (0, 7, 1)
    assert second.file_sha256 == first.file_sha256 and second.id != first.id
    assert (count(RepaymentOutcome), count(ApplicationEvent),
            count(AuditEntry, AuditEntry.action == "loan.report")) == written
    assert feedback.loaded_reports(db.session, second) == []


def test_a_reported_month_with_other_figures_is_refused_not_changed(world, four_loans, tmp_path):
    send(world, write_csv(tmp_path, [["L-1", month(4), "0", "350000", "", ""]]))
    record = send(world, write_csv(tmp_path, [["L-1", month(4), "3", "350000", "", ""]], name="again.csv"))
    assert record.rows_rejected == 1
    assert f"{month(4)} 已报送为逾期 0 天、余额 350,000.00 元" in record.rejects[0]["message"]
    assert [o.days_past_due for o in loan_named("L-1", world["bank_a"].id).outcomes] == [0]


def test_a_month_twice_in_one_file_with_other_figures_is_refused_both_times(world, four_loans, tmp_path):
    rows = [["L-1", month(4), "0", "350000", "", ""], ["L-1", month(4), "9", "350000", "", ""],
            ["L-2", month(4), "0", "350000", "", "重复"], ["L-2", month(4), "0", "350000", "", ""]]
    record = send(world, write_csv(tmp_path, rows))
    assert [r["line"] for r in record.rejects] == [2, 3]
    assert "出现多次且数值不同" in record.rejects[0]["message"]
    assert (record.rows_loaded, record.rows_unchanged) == (1, 1)  # an exact repeat is already there


def test_a_loan_of_the_same_account_at_another_institution_is_left_alone(world, four_loans, tmp_path):
    theirs = factories.add_loan(world, "L-1", institution=world["bank_b"])
    db.session.commit()
    send(world, write_csv(tmp_path, [["L-1", month(4), "20", "350000", "", ""]]))
    assert loan_named("L-1", world["bank_a"].id).status == "overdue"
    db.session.refresh(theirs)
    assert (theirs.status, theirs.outcomes) == ("disbursed", [])


@pytest.mark.parametrize(("header", "words"), [
    (["贷款账号", "报送月份", "贷款余额（元）", "认定", "说明"], "缺少列：逾期天数"),
    (["loan", "month", "dpd", "balance", "declared", "note"], "缺少列"),
])
def test_a_file_with_a_wrong_header_is_refused_whole(world, four_loans, tmp_path, header, words):
    path = write_csv(tmp_path, [["L-1", month(4), "0", "350000", "", ""]], header=header)
    with pytest.raises(InvalidInput) as caught:
        feedback.upload(db.session, path, world["bank_a"], world["users"]["officer"])
    assert words in caught.value.message
    assert not db.session.new and count(FeedbackUpload) == 0 and count(RepaymentOutcome) == 0


@pytest.mark.parametrize(("content", "words"), [
    (b"\x80\x81\xfe\xff" * 10, "无法识别文件编码"),
    (",".join(HEADER).encode() + b"\n", "文件中没有数据行"),
    (b"", "文件为空"),
])
def test_an_unreadable_or_empty_file_is_refused_whole(world, tmp_path, content, words):
    path = tmp_path / "坏文件.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        feedback.upload(db.session, path, world["bank_a"], world["users"]["officer"])
    assert words in caught.value.message and count(FeedbackUpload) == 0


def test_a_refusal_is_in_english_for_an_english_user(app, world, tmp_path):
    from flask_babel import force_locale

    path = write_csv(tmp_path, [["X", month(4), "0", "1", "", ""]], header=HEADER[:2])
    with app.test_request_context(), force_locale("en"), pytest.raises(InvalidInput) as caught:
        feedback.upload(db.session, path, world["bank_a"], world["users"]["officer"])
    assert caught.value.message.startswith("missing columns")


def test_a_gbk_csv_is_read(world, four_loans, tmp_path):
    path = write_csv(tmp_path, [["L-3", month(4), "120", "390000", "违约", "企业已停产"]], encoding="gbk")
    record = send(world, path)
    assert (record.encoding, record.rows_loaded) == ("gb18030", 1)
    assert loan_named("L-3", world["bank_a"].id).outcomes[0].note == "企业已停产"


def test_an_excel_file_is_read_with_months_as_excel_dates(world, four_loans, tmp_path):
    path = tmp_path / "贷后反馈.xlsx"
    first = add_months(month_of(local_date()), -4)
    frame = pd.DataFrame([["L-1", datetime(first.year, first.month, 1), 0, 350000, None, None],
                          ["L-2", f"{first.year}年{first.month}月", 31, 380000.5, None, "电话催收"]], columns=HEADER)
    frame.to_excel(path, index=False, engine="openpyxl")
    record = send(world, path)
    assert (record.encoding, record.rows_loaded, record.rejects) == ("xlsx", 2, [])
    second = loan_named("L-2", world["bank_a"].id)
    assert (second.status, second.outcomes[0].amount_outstanding) == ("overdue", Decimal("380000.50"))


def test_a_row_that_fails_half_way_leaves_nothing_of_itself(world, four_loans, tmp_path, monkeypatch):
    """The report and the application's step are written before the audit entry: a failure there
    rolls back the row's savepoint, and the other rows still load."""
    record_audit = loans.audit.record

    def failing(session, actor, action, target, **details):
        if action == "loan.report" and target.reference == "L-2":
            raise NotAllowed("审计写入失败")
        return record_audit(session, actor, action, target, **details)

    monkeypatch.setattr(loans.audit, "record", failing)
    rows = [["L-1", month(4), "0", "350000", "", ""], ["L-2", month(4), "10", "380000", "", ""],
            ["L-3", month(4), "0", "350000", "", ""]]
    record = send(world, write_csv(tmp_path, rows))
    assert (record.rows_loaded, record.rejects) == (2, [
        {"line": 3, "reference": "L-2", "month": month(4), "message": "审计写入失败"}])
    failed = loan_named("L-2", world["bank_a"].id)
    assert (failed.status, failed.outcomes) == ("disbursed", [])
    assert (failed.application.status, failed.application.version, failed.application.events) == ("disbursed", 1, [])
    assert loan_named("L-3", world["bank_a"].id).status == "repaying"


def test_a_crash_mid_file_keeps_nothing_and_the_file_loads_whole_when_sent_again(world, four_loans, tmp_path,
                                                                                 monkeypatch):
    path = write_csv(tmp_path, good_rows())
    record_month = loans.record_month

    def crashing(session, loan, *args, **kwargs):
        if loan.reference == "L-3":
            raise RuntimeError("database went away")
        return record_month(session, loan, *args, **kwargs)

    monkeypatch.setattr(loans, "record_month", crashing)
    events = count(ApplicationEvent)
    with pytest.raises(RuntimeError):
        feedback.upload(db.session, path, world["bank_a"], world["users"]["officer"])
    db.session.rollback()  # what the request or the command does with an error
    assert (count(FeedbackUpload), count(RepaymentOutcome), count(ApplicationEvent)) == (0, 0, events)
    monkeypatch.setattr(loans, "record_month", record_month)
    assert send(world, path).rows_loaded == 7


@pytest.mark.parametrize("user", ["officer_other", "firm", "regulator"])
def test_only_lender_staff_of_the_institution_may_upload(world, four_loans, tmp_path, user):
    with pytest.raises(NotAllowed):
        feedback.upload(db.session, write_csv(tmp_path, good_rows()), world["bank_a"], world["users"][user])
    assert count(FeedbackUpload) == 0


def test_a_lender_admin_may_upload(world, four_loans, tmp_path):
    assert send(world, write_csv(tmp_path, good_rows()), user="lender_admin").rows_loaded == 7


def test_the_template_lists_the_loans_whose_month_is_not_reported(world, four_loans):
    loans.record_month(db.session, four_loans["L-1"], world["users"]["officer"], month_of(local_date()), 0,
                       Decimal("300000"))
    factories.add_loan(world, "CLOSED-1", status="repaid")
    factories.add_loan(world, "B-1", institution=world["bank_b"])
    db.session.commit()
    lines = feedback.template_csv(db.session, world["bank_a"].id).lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(HEADER)
    assert [line.split(",")[:2] for line in lines[1:]] == [[ref, month(0)] for ref in ("L-2", "L-3", "L-4")]


def test_the_template_neutralises_a_reference_that_starts_like_a_formula(world):
    factories.add_loan(world, "=1+2")
    factories.add_loan(world, "-L-9")
    db.session.commit()
    lines = feedback.template_csv(db.session, world["bank_a"].id).lstrip("\ufeff").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["'-L-9", "'=1+2"]


def test_an_institution_is_found_by_name_or_id(world):
    bank = world["bank_a"]
    assert feedback.find_institution(db.session, bank.name) is bank
    assert feedback.find_institution(db.session, str(bank.id)) is bank
    assert feedback.find_institution(db.session, "没有这家银行") is None
