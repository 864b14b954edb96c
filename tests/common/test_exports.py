"""The one writer of CSV and Excel files: formula cells neutralised, numbers kept, ID numbers masked."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.common import exports


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-5", "-5"), ("+3.25", "+3.25"), ("甲公司", "甲公司"), ("a=1", "a=1"), ("", ""),
    (-5, -5), (Decimal("-1.50"), Decimal("-1.50")), (2.5, 2.5), (None, None), (date(2026, 1, 5), date(2026, 1, 5)),
])
def test_text_that_starts_like_a_formula_is_quoted_and_numbers_stay_numbers(value, written):
    assert exports.safe_cell(value) == written


@pytest.mark.parametrize(("value", "written"), [
    ("610203199001011234", "610203********1234"),
    ("61020319900101123X", "610203********123X"),
    ("法人身份证 610203199001011234，电话 13800000000", "法人身份证 610203********1234，电话 13800000000"),
    ("610203900101123", "610203*****1123"),  # the old 15-digit form
    ("91610203MA6X00001L", "91610203MA6X00001L"),  # a 统一社会信用代码 is no ID number
    ("6102031990010112345", "6102031990010112345"),  # 19 digits: not an ID number
    ("=610203199001011234", "'=610203********1234"),
])
def test_id_numbers_in_text_are_masked(value, written):
    assert exports.safe_cell(value) == written


def test_a_csv_is_utf8_with_bom_and_every_cell_safe():
    text = exports.csv_text(["名称", "金额"], [["=HYPERLINK(\"http://x\")", -5], ["乙", Decimal("12.50")]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名称", "金额"], ["'=HYPERLINK(\"http://x\")", "-5"], ["乙", "12.50"]]


def test_chunks_join_to_the_same_csv():
    rows = [[f"={n}", n] for n in range(7)]
    joined = b"".join(exports.csv_chunks(["a", "b"], rows, rows_per_chunk=3)).decode("utf-8")
    assert joined == exports.csv_text(["a", "b"], rows)


def test_an_excel_sheet_holds_text_not_formulas_and_numbers_as_numbers():
    book = load_workbook(io.BytesIO(exports.xlsx_bytes(["名称", "金额"], [["=1+1", -5], ["610203199001011234", 3]])))
    values = [[cell.value for cell in row] for row in book.active.iter_rows()]
    assert values == [["名称", "金额"], ["'=1+1", -5], ["610203********1234", 3]]
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)
