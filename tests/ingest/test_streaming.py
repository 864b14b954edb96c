"""Large exports are read and loaded a chunk at a time: the same records, in flat memory."""
import tracemalloc

import pandas as pd
import pytest
from sqlalchemy import func, select

from app.common.region import town_codes
from app.credit.records import read_district, records_from_db
from app.entities import SourceBatch
from app.extensions import db
from app.ingest.loading import check_export
from app.ingest.reading import read_export, read_export_chunks
from app.ingest.runner import export_files, ingest_paths
from app.ingest.sources import source_for_file
from app.ingest.validation import typed_frame

TOWNS = town_codes("610203")


@pytest.fixture
def streaming(app):
    """Every CSV export is streamed, 97 rows at a time."""
    app.config.update(STREAM_EXPORT_BYTES=0, STREAM_ROWS=97)


def test_a_streamed_district_stores_what_a_whole_read_keeps(app, streaming, small_district):
    summary = ingest_paths(db.session, export_files(small_district), TOWNS)
    db.session.commit()
    read = sum(len(pd.read_csv(p, dtype=str)) for p in export_files(small_district) if p.suffix == ".csv")
    assert read > 5 * 97  # files larger than a chunk
    assert summary["totals"]["rows_read"] >= read
    stored, expected = records_from_db(db.session), read_district(small_district, TOWNS)
    assert {n: len(f) for n, f in stored.items()} == {n: len(f) for n, f in expected.items()}
    for name, frame in expected.items():
        columns = list(frame.columns)
        left = stored[name][columns].sort_values(columns[:3], key=lambda c: c.astype(str)).reset_index(drop=True)
        right = frame.sort_values(columns[:3], key=lambda c: c.astype(str)).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
    batches = db.session.scalar(select(func.count()).select_from(SourceBatch).where(SourceBatch.status == "loaded"))
    assert batches == len(export_files(small_district))  # one batch per file, however many chunks


def test_a_streamed_file_sent_again_changes_nothing(app, streaming, small_district):
    ingest_paths(db.session, export_files(small_district), TOWNS)
    db.session.commit()
    again = ingest_paths(db.session, export_files(small_district), TOWNS)
    assert again["totals"]["inserted"] == again["totals"]["updated"] == 0


def test_chunks_carry_on_the_row_numbers_and_hold_every_row(small_district):
    path = next(small_district.glob("水电气_月度账单_all.csv"))
    source = source_for_file(path.name)
    whole = read_export(path, source).frame
    chunks = [export.frame for export in read_export_chunks(path, source, 100)]
    assert len(chunks) == -(-len(whole) // 100) > 3
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)


def _peak(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_large_export_in_chunks_keeps_memory_flat(small_district, tmp_path):
    path = next(small_district.glob("水电气_月度账单_all.csv"))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    source = source_for_file(path.name)
    codes = set(frame["信用主体代码"])

    def validate(export):
        cells, rejects, _ = check_export(export, source, TOWNS, codes)
        typed_frame(cells.drop(index=pd.unique(rejects["index"])), source)

    peaks = {}
    for rows in (20_000, 60_000):
        big = tmp_path / f"水电气_月度账单_{rows}.csv"
        pd.concat([frame] * (rows // len(frame) + 1), ignore_index=True).iloc[:rows].to_csv(
            big, index=False, encoding="utf-8-sig")
        peaks[rows] = (_peak(lambda big=big: validate(read_export(big, source))),
                       _peak(lambda big=big: [validate(export) for export in read_export_chunks(big, source, 5_000)]))
    assert peaks[60_000][0] > 2 * peaks[20_000][0]  # read whole, three times the rows cost over twice the memory
    assert peaks[60_000][1] < 1.25 * peaks[20_000][1]  # streamed, the same
