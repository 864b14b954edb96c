"""A table of figures (headers and rows) written as CSV or Excel for download.

Text cells that a spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return)
are written with a leading apostrophe; numbers stay numbers.
"""
import csv
from io import BytesIO, StringIO

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def safe_cell(value):
    """The value as written: text neutralised, numbers and empty cells as they are."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def to_csv(headers, rows):
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese as Chinese."""
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in headers])
    writer.writerows([[safe_cell(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headers, rows, title):
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([safe_cell(h) for h in headers])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def encode(fmt, headers, rows, title):
    """(bytes, mimetype) of the table in `fmt` ("csv" or "xlsx")."""
    body = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows, title)
    return body, FORMATS[fmt]
