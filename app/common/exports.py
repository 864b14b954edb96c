"""Every CSV or Excel file the platform writes for people goes through here, so that no cell runs as a
formula in a spreadsheet (CSV injection) and no ID number is shown whole.

A text cell that starts with = + - @ or a tab or carriage return gets a leading single quote, which a
spreadsheet shows as text; numbers stay numbers (a -5 written as a number, or as the text "-5", is no
formula). ID numbers (18-character 居民身份证号码 and the old 15-digit ones) anywhere in a text cell keep
their region prefix and last four characters.
"""
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number written as text (a raw value in a reject report): no formula, so left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# A resident ID number: region (6), birth date (8, or 6 in the old form), sequence and check character.
_MONTH_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])[1-9]\d{{5}}(?:(?:19|20)\d{{2}}{_MONTH_DAY}\d{{3}}[0-9Xx]"
                       rf"|\d{{2}}{_MONTH_DAY}\d{{3}})(?![0-9A-Za-z])")
# The byte-order mark that makes Excel read a CSV as UTF-8.
BOM = "\ufeff"


def mask_id_text(text):
    """An ID number (or any text in an ID-number field) masked: the region prefix and the last four
    characters of a long one, stars for the rest (as many as there were characters); a short one all stars."""
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_id_numbers_in(text):
    """`text` with every ID number in it masked."""
    return ID_NUMBER.sub(lambda match: mask_id_text(match.group(0)), text)


def safe_cell(value):
    """A value as a cell may hold it: numbers, dates and blanks as they are; text with ID numbers masked
    and, when it starts like a formula, a leading quote."""
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = mask_id_numbers_in(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text) else text


def safe_row(row):
    """Every cell of a row made safe."""
    return [safe_cell(value) for value in row]


def write_csv(handle, header, rows, lineterminator="\r\n"):
    """Write a header and rows, every cell made safe, to an open text file."""
    writer = csv.writer(handle, lineterminator=lineterminator)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))


def csv_text(header, rows, lineterminator="\r\n"):
    """A whole CSV as text, with the BOM Excel needs to read it as UTF-8."""
    out = io.StringIO()
    out.write(BOM)
    write_csv(out, header, rows, lineterminator)
    return out.getvalue()


def csv_chunks(header, rows, rows_per_chunk=500):
    """A CSV as UTF-8 byte chunks (BOM first), for a streamed download of any length."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(BOM)
    writer.writerow(safe_row(header))
    for number, row in enumerate(rows, 1):
        writer.writerow(safe_row(row))
        if number % rows_per_chunk == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def xlsx_bytes(header, rows, sheet_title="Sheet1"):
    """An Excel workbook (.xlsx) of one sheet, every cell made safe (openpyxl would store a text
    starting with = as a formula)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title[:31])
    sheet.append(safe_row(header))
    for row in rows:
        sheet.append(safe_row(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
