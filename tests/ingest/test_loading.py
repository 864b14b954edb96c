"""Loading department exports: provenance, idempotence, corrections, rejects, all-or-nothing."""
import csv
import json

import pytest
from sqlalchemy import func, select, text

from app.entities import CreditSubject, SourceBatch, SourceRecord
from app.extensions import db
from app.ingest import loading
from app.ingest.runner import export_files, ingest_paths

from . import exports

TOWNS = ["610203001", "610203100", "610203101", "610203106"]


def ingest(folder_or_file):
    return ingest_paths(db.session, export_files(folder_or_file), TOWNS)


def current(source):
    query = select(SourceRecord).where(SourceRecord.source == source, SourceRecord.superseded_by_id.is_(None))
    return db.session.scalars(query).all()


def reject_rows(path):
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def district(tmp_path):
    return exports.write_district(tmp_path / "district")


def test_loads_every_encoding_with_provenance(app, district):
    summary = ingest(district)
    assert summary["ok"]
    assert summary["sources"]["registration"]["inserted"] == 3
    assert summary["sources"]["tax_filing"]["inserted"] == 3
    assert summary["sources"]["tax_grade"]["inserted"] == 1
    encodings = dict(db.session.execute(select(SourceBatch.source, SourceBatch.encoding)).all())
    assert encodings == {"registration": "utf-8-sig", "tax_filing": "gb18030", "tax_grade": "xlsx"}
    record = next(r for r in current("tax_filing") if r.natural_key.endswith("2025-02-01"))
    assert record.payload["revenue"] == 980000  # full-width digits understood, 元 kept
    assert record.raw_row_number == 3 and "９８００００" in record.raw_row
    assert len(record.batch.file_sha256) == 64 and record.batch.file_name == "税务_月度申报_2025.csv"
    first = next(r for r in current("tax_filing") if r.natural_key.endswith("2025-01-01") and "1200000" in
                 json.dumps(r.payload))
    assert first.payload["revenue"] == 1_200_000 and first.payload["on_time"] is True


def test_registration_creates_subjects_with_masked_id_numbers(app, district):
    ingest(district)
    subjects = {s.identifier: s for s in db.session.scalars(select(CreditSubject))}
    firm = subjects[exports.FIRM_A]
    assert firm.kind == "enterprise" and firm.town_code == "610203100" and firm.registered_capital == 5_000_000
    assert firm.legal_rep_id_masked == "610203********1234"
    assert subjects[exports.FARMER].kind == "farmer" and subjects[exports.FARMER].uscc is None
    raw = next(r.raw_row for r in current("registration") if r.natural_key == exports.FIRM_A)
    assert "198001011234" not in raw


def test_reingest_changes_nothing(app, district):
    ingest(district)
    counts = db.session.scalar(select(func.count(SourceRecord.id)))
    second = ingest(district)
    assert second["totals"]["inserted"] == 0 and second["totals"]["updated"] == 0
    assert second["totals"]["unchanged"] == 7
    assert {f["status"] for f in second["files"]} == {"already_loaded"}
    assert db.session.scalar(select(func.count(SourceRecord.id))) == counts


def test_same_rows_in_a_new_file_are_unchanged(app, district, tmp_path):
    ingest(district)
    exports.write_csv(tmp_path / "税务_月度申报_重发.csv", "tax_filing", exports.tax_rows())
    summary = ingest(tmp_path / "税务_月度申报_重发.csv")
    assert summary["totals"]["unchanged"] == 3 and summary["totals"]["inserted"] == 0


def test_a_row_resent_alone_is_unchanged(app, district, tmp_path):
    # Its revenue cell is a whole number, as every cell of this file is (the first file's were not).
    ingest(district)
    exports.write_csv(tmp_path / "税务_月度申报_重发.csv", "tax_filing", exports.tax_rows()[2:])
    summary = ingest(tmp_path / "税务_月度申报_重发.csv")
    assert summary["totals"]["unchanged"] == 1 and summary["totals"]["updated"] == 0


def test_correction_supersedes_and_keeps_history(app, district, tmp_path):
    ingest(district)
    fixed = [[exports.FIRM_B, "2025-01", "80000", "800", "0", "是", "0"]]
    exports.write_csv(tmp_path / "税务_月度申报_更正_2025.csv", "tax_filing", fixed)
    summary = ingest(tmp_path / "税务_月度申报_更正_2025.csv")
    assert summary["totals"]["updated"] == 1 and summary["totals"]["inserted"] == 0
    key = f"{exports.FIRM_B}|2025-01-01"
    versions = db.session.scalars(select(SourceRecord).where(SourceRecord.natural_key == key)
                                  .order_by(SourceRecord.id)).all()
    assert len(versions) == 2
    assert versions[0].superseded_by_id == versions[1].id and versions[1].superseded_by_id is None
    assert versions[1].payload["arrears"] == 0 and versions[0].payload["arrears"] == 1500


BAD_ROWS = [
    ([exports.FIRM_A, "2025-13", "100", "1", "1", "是", "0"], "所属期", "格式不正确"),
    ([exports.FIRM_A, "2025-03", "-100", "1", "1", "是", "0"], "营业收入(元)", "数值超出允许范围"),
    ([exports.FIRM_A, "2025-04", "", "1", "1", "是", "0"], "营业收入(元)", "必填项为空"),
    ([exports.FIRM_A, "2025-05", "100", "1", "1", "较晚", "0"], "是否按期申报", "取值不在允许范围内"),
    ([exports.BAD_CHECK, "2025-06", "100", "1", "1", "是", "0"], "纳税人识别号", "信用主体未在市场监管登记数据中"),
    (["91610203ABC", "2025-06", "100", "1", "1", "是", "0"], "纳税人识别号", "统一社会信用代码或农户编码格式不正确"),
]


@pytest.mark.parametrize(("row", "field", "reason"), BAD_ROWS)
def test_each_bad_row_is_rejected_with_its_reason_and_good_rows_load(app, district, tmp_path, row, field, reason):
    ingest(district)
    good = [exports.FIRM_A, "2025-07", "100", "1", "1", "是", "0"]
    path = exports.write_csv(tmp_path / "税务_月度申报_新.csv", "tax_filing", [good, row])
    summary = ingest(path)
    assert summary["totals"]["inserted"] == 1 and summary["totals"]["rejected"] == 1
    rejects = reject_rows(summary["files"][0]["reject_file"])
    assert [(r["行号 row"], r["字段 field"], r["原因 reason"]) for r in rejects] == [("3", field, reason)]


def test_duplicates_and_conflicts_within_a_file(app, district, tmp_path):
    ingest(district)
    row = [exports.FIRM_A, "2025-08", "100", "1", "1", "是", "0"]
    clash = [[exports.FIRM_A, "2025-09", "100", "1", "1", "是", "0"],
             [exports.FIRM_A, "2025-09", "999", "1", "1", "是", "0"]]
    path = exports.write_csv(tmp_path / "税务_月度申报_重复.csv", "tax_filing", [row, row, *clash])
    summary = ingest(path)
    figures = summary["files"][0]
    assert (figures["inserted"], figures["duplicates"], figures["rejected"]) == (1, 1, 2)


def test_registration_keeps_a_pilot_code_with_a_warning(app, tmp_path):
    row = exports.registration_rows()[1]
    row[0] = exports.make_uscc("92", "610203", "MA6XA003")[:-1] + "0"
    if exports.make_uscc("92", "610203", "MA6XA003").endswith("0"):
        row[0] = row[0][:-1] + "1"
    summary = ingest(exports.write_csv(tmp_path / "市场监管_主体登记_试点.csv", "registration", [row]))
    assert summary["totals"]["inserted"] == 1 and summary["totals"]["warnings"] == 1
    assert db.session.scalars(select(CreditSubject)).one().uscc_check_failed is True


def test_missing_column_refuses_the_file(app, tmp_path):
    path = tmp_path / "税务_月度申报_缺列.csv"
    path.write_text("纳税人识别号,所属期\n1,2\n", encoding="utf-8")
    summary = ingest(path)
    assert not summary["ok"] and summary["files"][0]["status"] == "refused"
    assert "缺少列" in summary["files"][0]["message"]
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 0


def test_unknown_file_is_reported_not_dropped(app, tmp_path):
    path = tmp_path / "不明来源.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert ingest(path)["files"][0]["status"] == "unknown_file"


def test_a_crash_half_way_leaves_no_partial_batch(app, district, monkeypatch):
    ingest(district / "市场监管_主体登记_2025.csv")
    before = db.session.scalar(select(func.count(SourceRecord.id)))

    def crash(session, source_name, batch_id, replaced):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loading.storing, "supersede", crash)
    summary = ingest(district / "税务_月度申报_2025.csv")
    assert summary["files"][0]["status"] == "failed" and not summary["ok"]
    assert db.session.scalar(select(func.count(SourceRecord.id))) == before
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 1


def test_a_cell_with_a_nul_character_is_a_row_reject_and_the_rest_loads(app, tmp_path):
    rows = exports.registration_rows()
    rows[1][1] = "城关\x00乙面馆"
    path = exports.write_csv(tmp_path / "市场监管_主体登记_2025.csv", "registration", rows)
    summary = ingest(path)
    assert summary["ok"] and summary["totals"]["inserted"] == 2 and summary["totals"]["rejected"] == 1
    rejects = reject_rows(summary["files"][0]["reject_file"])
    assert [(r["行号 row"], r["字段 field"], r["原因 reason"]) for r in rejects] == [
        ("3", "主体名称", "含有空字符（NUL），无法保存")]
    assert db.session.scalar(select(func.count(CreditSubject.id))) == 2


def correct_firm_b(folder, arrears="0"):
    """A correction of FIRM_B's January filing (filed on time, no arrears after all)."""
    fixed = [[exports.FIRM_B, "2025-01", "80000", "800", "0", "是", arrears]]
    return exports.write_csv(folder / f"税务_月度申报_更正_{arrears}.csv", "tax_filing", fixed)


def firm_b_january():
    key = f"{exports.FIRM_B}|2025-01-01"
    return db.session.scalars(select(SourceRecord).where(SourceRecord.natural_key == key)
                              .order_by(SourceRecord.id)).all()


def test_an_older_file_sent_again_does_not_revert_a_correction(app, district, tmp_path):
    ingest(district)
    ingest(correct_firm_b(tmp_path))
    original = district / "税务_月度申报_2025.csv"
    again = tmp_path / "again" / original.name
    again.parent.mkdir()
    again.write_bytes(original.read_bytes() + b"\r\n")  # a new checksum: the file is read again
    figures = ingest(again)["files"][0]
    assert (figures["status"], figures["inserted"], figures["updated"]) == ("loaded", 0, 0)
    assert (figures["unchanged"], figures["stale"]) == (3, 1)
    assert "未回退" in figures["message"] and "not reverted" in figures["message_en"]
    versions = firm_b_january()
    assert len(versions) == 2 and versions[-1].superseded_by_id is None and versions[-1].payload["arrears"] == 0
    batch = db.session.get(SourceBatch, figures["batch_id"])
    assert (batch.rows_updated, batch.rows_unchanged, batch.rows_stale) == (0, 3, 1)


def test_a_second_correction_still_applies(app, district, tmp_path):
    ingest(district)
    ingest(correct_firm_b(tmp_path))
    figures = ingest(correct_firm_b(tmp_path, arrears="700"))["files"][0]
    assert (figures["updated"], figures["stale"]) == (1, 0)
    versions = firm_b_january()
    assert [v.payload["arrears"] for v in versions] == [1500, 0, 700]
    assert [v.superseded_by_id for v in versions] == [versions[1].id, versions[2].id, None]


def _lines(path, encoding):
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def _rewrite(path, rows, encoding, lineterminator="\r\n"):
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator=lineterminator).writerows(rows)


def _padded(rows):
    return [rows[0], *([f" {cell}  " for cell in row] for row in rows[1:])]


RESENDS = {  # how a department's tool might write the same content again
    "trailing newline": lambda path, rows: path.write_bytes(path.read_bytes() + b"\n"),
    "LF instead of CRLF": lambda path, rows: _rewrite(path, rows, "utf-8-sig", "\n"),
    "no BOM": lambda path, rows: _rewrite(path, rows, "utf-8"),
    "GBK": lambda path, rows: _rewrite(path, rows, "gb18030"),
    "spaces around cells": lambda path, rows: _rewrite(path, _padded(rows), "utf-8-sig"),
    "white space inside a name": lambda path, rows: _rewrite(
        path, [[cell.replace(" ", "\u3000\t ") for cell in row] for row in rows], "utf-8-sig"),
    "line break inside a name": lambda path, rows: _rewrite(
        path, [[cell.replace(" ", "\n") for cell in row] for row in rows], "utf-8-sig", "\n"),
}


@pytest.mark.parametrize("resend", list(RESENDS))
def test_a_resend_differing_only_in_white_space_or_encoding_is_unchanged(app, tmp_path, resend):
    rows = exports.registration_rows()
    rows[0][1] = "陈炉甲 陶瓷有限公司"  # a space in the name (as some registers write it)
    rows[0][9] = "张 三"
    first = exports.write_csv(tmp_path / "市场监管_主体登记_2025.csv", "registration", rows, "utf-8-sig")
    ingest(first)
    again = tmp_path / "again" / first.name
    again.parent.mkdir()
    again.write_bytes(first.read_bytes())
    RESENDS[resend](again, _lines(first, "utf-8-sig"))
    assert again.read_bytes() != first.read_bytes()
    figures = ingest(again)["files"][0]
    assert (figures["status"], figures["inserted"], figures["updated"], figures["unchanged"]) == ("loaded", 0, 0, 3)
    assert db.session.scalar(select(CreditSubject.name).where(CreditSubject.uscc == exports.FIRM_A)) == (
        "陈炉甲 陶瓷有限公司")


def test_the_reject_report_neutralises_formulas_and_masks_id_numbers(app, district, tmp_path):
    ingest(district)
    rows = [[exports.FIRM_A, "2025-07", '=HYPERLINK("http://evil.example","点此")', "1", "1", "是", "0"],
            [exports.FIRM_A, "2025-08", "身份证610203199001011234", "1", "1", "是", "0"],
            [exports.FIRM_A, "2025-09", "-100", "1", "1", "是", "0"]]
    summary = ingest(exports.write_csv(tmp_path / "税务_月度申报_注入.csv", "tax_filing", rows))
    raw = [r["原始值 raw value"] for r in reject_rows(summary["files"][0]["reject_file"])]
    assert raw == ['\'=HYPERLINK("http://evil.example","点此")', "身份证610203********1234", "-100"]


def _manual_analyses(table):
    """How many times `table` was ANALYZEd by a command (autovacuum's passes are counted apart)."""
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.scalar(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :t"), {"t": table})


def test_an_ingest_that_wrote_rows_refreshes_the_planner_statistics(app, district):
    """On PostgreSQL, a query for one firm's records must not plan as if the table were empty just after a big
    load (a whole-source scan, 200 ms, until autovacuum's next pass)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the planner statistics are PostgreSQL's (SQLite plans by its indexes)")
    before = _manual_analyses("source_record")
    ingest(district)
    assert _manual_analyses("source_record") == before + 1
    ingest(district)  # nothing new: no statistics to refresh
    assert _manual_analyses("source_record") == before + 1
