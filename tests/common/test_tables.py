"""Tables written for download: formulas neutralised, numbers kept, Chinese readable by Excel."""
import csv
from io import BytesIO, StringIO

from openpyxl import load_workbook

from app.common import tables

HOSTILE = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "陈炉镇"]


def test_text_that_a_spreadsheet_would_run_is_written_as_text():
    assert [tables.safe_cell(v) for v in HOSTILE] == [
        "'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "陈炉镇"]
    assert [tables.safe_cell(v) for v in (-5, 2.5, None, True)] == [-5, 2.5, None, True]


def test_csv_has_a_byte_order_mark_and_neutralised_cells():
    body = tables.to_csv(["名称", "金额"], [[value, -5] for value in HOSTILE])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["名称", "金额"] and rows[1] == ["'=HYPERLINK(\"http://x\")", "-5"]


def test_excel_keeps_numbers_and_neutralises_text():
    body, mimetype = tables.encode("xlsx", ["名称", "金额"], [["=1+1", -5.5]], "漏斗")
    sheet = load_workbook(BytesIO(body)).active
    assert sheet.title == "漏斗" and mimetype.endswith("spreadsheetml.sheet")
    assert list(sheet.iter_rows(values_only=True)) == [("名称", "金额"), ("'=1+1", -5.5)]
