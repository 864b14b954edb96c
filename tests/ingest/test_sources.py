"""Each declared source: its generated exports read under the declared headers and types."""
import pandas as pd
import pytest

from app.common.region import town_codes
from app.ingest.reading import read_export
from app.ingest.runner import export_files
from app.ingest.sources import SOURCES, get_source, source_for_file
from app.ingest.validation import find_rejects, normalise_cells, typed_frame

TOWNS = set(town_codes("610203"))
NUMERIC = ("money", "decimal", "int", "year")


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_reads_to_typed_columns(synthetic_district, source):
    files = [p for p in export_files(synthetic_district) if source_for_file(p.name) is source]
    assert files, f"the generator writes no {source.file_prefix} file"
    export = read_export(files[0], source)
    cells = normalise_cells(export.frame)
    rejects = find_rejects(cells, source, TOWNS)
    assert len(rejects["index"].unique()) < 0.02 * len(cells)  # only the planted defects
    typed = typed_frame(cells.drop(index=rejects["index"].unique()), source)
    assert list(typed.columns) == [c.name for c in source.columns]
    for column in source.columns:
        values = typed[column.name]
        if column.required:
            assert values.notna().all(), column.header
        if column.kind in NUMERIC:
            assert pd.api.types.is_numeric_dtype(values), column.header
        if column.kind in ("date", "month"):
            assert pd.api.types.is_datetime64_any_dtype(values), column.header


def test_unknown_source_name_fails_clearly():
    with pytest.raises(LookupError, match="known: registration"):
        get_source("electricity")
