"""Tables of figures for download go through the one safe writer: formulas neutralised, numbers kept,
Chinese readable by Excel."""
import csv
from io import BytesIO, StringIO

from openpyxl import load_workbook

from app.common import tables


def test_csv_has_a_byte_order_mark_and_neutralised_cells():
    body, mimetype = tables.encode("csv", ["名称", "金额"], [["=HYPERLINK(\"http://x\")", -5], ["陈炉镇", 2.5]], "漏斗")
    assert body.startswith("\ufeff".encode()) and mimetype.startswith("text/csv")
    rows = list(csv.reader(StringIO(body.decode("utf-8-sig"))))
    assert rows == [["名称", "金额"], ["'=HYPERLINK(\"http://x\")", "-5"], ["陈炉镇", "2.5"]]


def test_excel_keeps_numbers_and_neutralises_text():
    body, mimetype = tables.encode("xlsx", ["名称", "金额"], [["=1+1", -5.5], ["@SUM(A1)", 3]], "漏斗")
    sheet = load_workbook(BytesIO(body)).active
    assert sheet.title == "漏斗" and mimetype.endswith("spreadsheetml.sheet")
    assert list(sheet.iter_rows(values_only=True)) == [("名称", "金额"), ("'=1+1", -5.5), ("'@SUM(A1)", 3)]
