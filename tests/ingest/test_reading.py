"""Reading Excel exports safely: a workbook that expands too much is refused before it is parsed, and
its XML is parsed by defusedxml (no entity declarations, no external references)."""
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from app.entities import SourceBatch
from app.extensions import db
from app.ingest.runner import ingest_paths

from . import exports

TOWNS = ["610203001", "610203100", "610203101", "610203106"]
SHEET = "xl/worksheets/sheet1.xml"


def rewrite_sheet(source, target, write_sheet):
    """A copy of the workbook `source` whose first sheet's XML `write_sheet(stream)` writes."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == SHEET:
                with new.open(SHEET, "w") as stream:
                    write_sheet(stream, old.read(SHEET))
            else:
                new.writestr(info, old.read(info.filename))
    return target


def bomb(folder, megabytes=64):
    """A tax-grade workbook of a few hundred kilobytes whose sheet expands to `megabytes` MB: its one
    data row repeated (written a block at a time, so the test itself stays small)."""
    plain = exports.write_xlsx(folder / "plain.xlsx", "tax_grade", [[exports.FIRM_A, "2024", "B", "82"]])

    def write_sheet(stream, xml):
        head, tail = xml.split(b"</sheetData>")
        row = b'<row><c t="inlineStr"><is><t>' + exports.FIRM_A.encode() + b"</t></is></c>" + b"".join(
            b'<c t="inlineStr"><is><t>' + cell + b"</t></is></c>" for cell in (b"2024", b"B", b"82")) + b"</row>"
        stream.write(head)
        block = row * (1_048_576 // len(row))
        for _ in range(megabytes):
            stream.write(block)
        stream.write(b"</sheetData>" + tail)

    return rewrite_sheet(plain, folder / "税务_纳税信用等级_炸弹.xlsx", write_sheet)


def test_an_excel_bomb_is_refused_quickly_with_memory_bounded(app, tmp_path):
    path = bomb(tmp_path)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        figures = ingest_paths(db.session, [path], TOWNS)["files"][0]
        seconds, (_now, peak) = time.perf_counter() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert figures["status"] == "refused" and "疑似压缩炸弹" in figures["message"], figures
    assert "zip bomb" in figures["message_en"]
    assert seconds < 3 and peak < 20 * 2**20, (seconds, peak)
    assert db.session.scalar(select(func.count(SourceBatch.id))) == 0


def test_a_workbook_expanding_beyond_the_setting_is_refused(app, tmp_path):
    path = exports.write_district(tmp_path / "district") / "税务_纳税信用等级_2025.xlsx"
    with zipfile.ZipFile(path) as workbook:
        expanded = sum(member.file_size for member in workbook.infolist())
    app.config["MAX_XLSX_UNZIPPED_BYTES"] = expanded - 1
    figures = ingest_paths(db.session, [path], TOWNS)["files"][0]
    assert figures["status"] == "refused" and "解压后过大" in figures["message"]
    app.config["MAX_XLSX_UNZIPPED_BYTES"] = expanded
    ingest_paths(db.session, [path.parent / "市场监管_主体登记_2025.csv"], TOWNS)
    assert ingest_paths(db.session, [path], TOWNS)["files"][0]["inserted"] == 1


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("declaration", [
    b'<!DOCTYPE worksheet [<!ENTITY grade "B">]>',  # an entity (billion laughs are built of these)
    b'<!DOCTYPE worksheet [<!ENTITY grade SYSTEM "file:///etc/hostname">]>',  # an external one
], ids=["entity", "external"])
def test_a_workbook_declaring_entities_is_refused(app, tmp_path, declaration):
    folder = exports.write_district(tmp_path / "district")
    ingest_paths(db.session, [folder / "市场监管_主体登记_2025.csv"], TOWNS)

    def write_sheet(stream, xml):
        stream.write(declaration + xml.replace(b"<t>B</t>", b"<t>&grade;</t>"))

    path = rewrite_sheet(folder / "税务_纳税信用等级_2025.xlsx", tmp_path / "税务_纳税信用等级_实体.xlsx", write_sheet)
    figures = ingest_paths(db.session, [path], TOWNS)["files"][0]
    assert figures["status"] == "refused" and "不安全" in figures["message"], figures
    assert "unsafe XML" in figures["message_en"]
