"""The loader's fast paths give exactly what the plain pandas way gives."""
import numpy as np
import pandas as pd
import pytest

from app.ingest.loading import payload_digests
from app.ingest.reading import _stripped
from app.ingest.sources import get_source
from app.ingest.validation import (
    ParsedColumns,
    find_rejects,
    is_known,
    normalise_cells,
    parse_column,
    typed_frame,
)

TOWNS = {"610203001", "610203100"}


def reference_digests(payload):
    """The definition of a payload hash (stored hashes depend on it)."""
    return pd.util.hash_pandas_object(payload.astype(str), index=False).to_numpy()


def mixed_payload(n=400):
    rng = np.random.default_rng(7)
    money = np.round(rng.lognormal(5, 3, n), 2)
    money[::7], money[::11], money[3:6] = np.nan, 0.0, (1e16, 1e-7, 0.1 + 0.2)
    money[20:28] = (np.inf, -np.inf, 1e22, 5e-324, 1.7976931348623157e308, 123456789.125, 1e15 + 0.5, -3.0)
    signed = money.copy()
    signed[13] = -0.0
    flags = pd.Series(rng.random(n) < 0.5, dtype=object)
    flags[::17] = np.nan
    texts = np.where(rng.random(n) < 0.1, None, rng.choice(["a", "b/c", "中文", "nan", ""], n))
    return pd.DataFrame({
        "text": pd.Series(texts, dtype=str),
        "labels": pd.Series(rng.choice(["x", "y"], n), dtype=object),
        "money": money, "signed": signed,
        "count": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 50, n)), dtype="Int64"),
        "flag": flags, "plain_flag": rng.random(n) < 0.5,
    }, index=np.arange(n) + 5)


@pytest.mark.parametrize("columns", [None, ["money"], ["signed"], ["count", "flag"], ["text"], []])
def test_payload_digests_are_the_reference_hashes(columns):
    payload = mixed_payload()
    payload = payload if columns is None else payload[columns]
    assert np.array_equal(payload_digests(payload), reference_digests(payload))
    assert np.array_equal(payload_digests(payload.iloc[:0]), reference_digests(payload.iloc[:0]))


def test_cells_are_stripped_and_empty_ones_missing():
    column = pd.Series([" a", "b ", "", "\u3000c", "d", "e f"], dtype=str)
    assert _stripped(column).tolist()[:2] == ["a", "b"]
    assert pd.isna(_stripped(column)[2]) and _stripped(column).tolist()[3:] == ["c", "d", "e f"]
    clean = pd.Series(["a", "b c"], dtype=str)
    assert _stripped(clean).tolist() == ["a", "b c"]


def test_only_cells_that_change_are_normalised():
    frame = pd.DataFrame({"digits": pd.Series(["１２", "3", None], dtype=str),
                          "names": pd.Series(["陈炉", "王石凹", None], dtype=str)})
    out = normalise_cells(frame)
    assert out["digits"].tolist()[:2] == ["12", "3"] and out["names"].tolist()[:2] == ["陈炉", "王石凹"]


def test_typing_reuses_the_values_the_checks_parsed():
    source = get_source("tax_filing")
    code = "91610203MA6XA00010"
    cells = pd.DataFrame([[code, "2025-01", "1,200.5", "3", "1", "是", "0"],
                          [code, "2025-13", "7", "3", "1", "是", "0"],
                          [code, "2025-03", "８００", "", "1", "否", "0"]],
                         columns=[c.name for c in source.columns]).astype(str)
    cells = normalise_cells(cells.replace("", np.nan))
    parsed = ParsedColumns()
    rejects = find_rejects(cells, source, TOWNS, parsed)
    valid = cells.drop(index=rejects["index"].unique())
    shared, fresh = typed_frame(valid, source, parsed), typed_frame(valid, source)
    pd.testing.assert_frame_equal(shared, fresh)
    assert shared["revenue"].tolist() == [1200.5]


def test_numbers_are_floats_whatever_the_other_cells():
    column = get_source("tax_filing").column("revenue")
    assert parse_column(pd.Series(["80000"], dtype=str), column).dtype == np.float64
    assert parse_column(pd.Series(["8,000", "x"], dtype=str), column).tolist()[0] == 8000.0


def test_is_known_answers_what_isin_answers():
    codes = pd.Series(["A1", None, "B2", "a1", "C3", "A1", np.nan], dtype="str", index=range(10, 17))
    known = {"A1": 1, "C3": 2}
    got = is_known(codes, known)
    assert got.index.equals(codes.index) and got.dtype == bool
    assert got.tolist() == codes.isin(list(known)).tolist() == [True, False, False, False, True, True, False]
    assert is_known(codes.astype(object), set(known)).tolist() == got.tolist()
    assert is_known(codes.iloc[:0], known).tolist() == []
