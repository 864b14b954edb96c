"""`python -m training.train_table`: a credit model trained and evaluated on a lender's own loan book CSV."""
import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from app.common.checksums import file_sha256
from app.credit.metrics import auc
from benchmarks.train_table import messy_book
from training.table import models
from training.table.artifact import load_model, score_rows
from training.table.book import load_book
from training.table.cli import main
from training.table.evaluate import evaluate
from training.table.leakage import find_leaks
from training.table.parsing import infer_spec, parse_values


def run_cli(capsys, *args):
    """Run the command in-process; its exit code, the JSON of its last stdout line, and its stderr."""
    try:
        main([*map(str, args), "--json"])
        code = 0
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]), err


def honest_and_leaky_book(n=2000, seed=1):
    """A book with one honest strong column, one written after the outcome and one filled only for bad loans."""
    rng = np.random.default_rng(seed)
    score = rng.normal(size=n)
    bad = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 2.2 * score)))
    recovered = np.where(bad & (rng.random(n) < 0.97), rng.uniform(100, 5000, n).round(2), np.nan)
    return pd.DataFrame({
        "bureau_score": (600 + 60 * score).round(0),
        "recovered": [f"¥{v:,.2f}" if v == v else "" for v in recovered],
        "outcome": np.where(bad, "default", "current"),
    })


def nonlinear_book(n=3000, seed=3):
    """Risk that lives in interactions and a U-shape, which a linear scorecard cannot draw."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 5))
    logit = -1.2 + 2.5 * np.sign(x[:, 0] * x[:, 1]) + 3 * (x[:, 2] ** 2 - 0.33) + 0.8 * x[:, 3]
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(x, columns=["util", "tenure", "dti", "age", "noise"])
    frame.loc[rng.random(n) < 0.05, "dti"] = np.nan
    return frame, bad.astype(np.int8)


@pytest.fixture(scope="module")
def contract_csv(tmp_path_factory):
    """The contract checker's kind of book: id, opened, amount, sector, flag, arrears, written_off_amt, status."""
    path = tmp_path_factory.mktemp("book") / "book.csv"
    messy_book(1500, seed=7).drop(columns=["rate", "income"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def contract_report(contract_csv):
    """One run of the command on the contract book, shared by the tests that read its report."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["--csv", str(contract_csv), "--target", "status", "--bad", "BAD", "--json", "--repeats", "1"])
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.parametrize(("cells", "kind", "parsed"), [
    (["$12,300.00 ", "¥1,234", "1,234.5元", "NA", "", "(1,000)", "１２万元"], "number",
     [12300, 1234, 1234.5, np.nan, np.nan, -1000, 120000]),
    (["5%", "12.5%", "N/A", "-", "0%"], "number", [0.05, 0.125, np.nan, np.nan, 0.0]),
    (["Y", "N", "y", "NULL", "N"], "flag", [1, 0, 1, np.nan, 0]),
    (["是", "否", "无", "是"], "flag", [1, 0, np.nan, 1]),
    (["true", "FALSE", "?", "True"], "flag", [1, 0, np.nan, 1]),
    (["03-Mar-15", "14-Apr-16", "null", "01-Jan-20"], "date", [16497, 16905, np.nan, 18262]),
    (["2015-03-03", "2015/3/3", "20150303", ""], "date", [16497, 16497, 16497, np.nan]),
    (["20150303", "20160101", "20170202", "无"], "date", [16497, 16801, 17199, np.nan]),
])
def test_each_messy_column_is_read_as_what_it_is(cells, kind, parsed):
    """Money, percentages, flags in three languages, dates in several formats, and codes for missing."""
    column = pd.Series(cells, dtype="str")
    spec = infer_spec(column)
    assert spec["type"] == kind
    np.testing.assert_allclose(parse_values(column, spec), parsed, equal_nan=True)


def test_a_gbk_file_with_chinese_headers_is_read_and_described(tmp_path):
    """A GBK export reads, and `inferred` says how every column was parsed."""
    n = 400
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "合同编号": [f"HT{i:06d}" for i in range(n)],
        "放款日期": pd.date_range("2019-01-01", periods=n, freq="D").strftime("%Y/%m/%d"),
        "贷款金额": [f"{v:,.1f}元" for v in rng.uniform(1e4, 5e5, n)],
        "是否涉农": rng.choice(["是", "否"], n),
        "行业": rng.choice(["制造业", "农业", "", "零售"], n),
        "五级分类": rng.choice(["正常", "关注", "不良"], n, p=[0.6, 0.25, 0.15]),
    })
    path = tmp_path / "gbk.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    book = load_book(path, "五级分类", "不良")
    assert book.encoding == "gb18030"
    assert {name: spec["type"] for name, spec in book.specs.items()} == {
        "合同编号": "category", "放款日期": "date", "贷款金额": "number", "是否涉农": "flag", "行业": "category"}
    assert book.specs["合同编号"]["role"].startswith("id_like")
    assert "%Y/%m/%d" in book.specs["放款日期"]["how"]


def test_blank_targets_are_left_out_and_counted(contract_report):
    """Rows without an outcome do not train or test; the report counts them."""
    assert contract_report["rows"] == 1500
    assert contract_report["rows_unlabelled"] > 0
    assert contract_report["rows_labelled"] + contract_report["rows_unlabelled"] == 1500


def test_the_written_off_amount_is_refused_as_leakage(contract_report):
    """An amount written after the outcome is reported and not used."""
    leaked = {leak["column"]: leak for leak in contract_report["leakage"]}
    assert "written_off_amt" in leaked
    assert leaked["written_off_amt"]["auc"] > 0.99
    assert "written_off_amt" not in contract_report["features"]


def test_the_id_column_is_not_a_feature(contract_report):
    """A row number says nothing about risk: reported as ID-like and left out."""
    assert "id" not in contract_report["features"]
    assert any(item["column"] == "id" for item in contract_report["id_like"])
    assert contract_report["inferred"]["id"]["role"].startswith("id_like")


def test_the_json_line_has_every_figure(contract_report):
    """The last stdout line is one JSON object with the agreed keys."""
    assert {"rows", "rows_unlabelled", "auc", "ks", "logistic_auc", "lightgbm_default_auc", "seconds", "leakage",
            "inferred", "scheme", "chosen"} <= set(contract_report)
    assert contract_report["scheme"]["name"] == "repeated_stratified_cv"
    assert contract_report["chosen"] in models.PREFERENCE
    assert contract_report["inferred"]["opened"]["type"] == "date"
    assert contract_report["inferred"]["amount"]["type"] == "number"
    assert contract_report["inferred"]["flag"]["type"] == "flag"


def test_leaks_are_dropped_but_an_honest_strong_column_is_kept():
    """A filled-only-when-bad column is refused; a strong score column with ordinary overlap is not."""
    frame = honest_and_leaky_book().astype("str")
    features = pd.DataFrame({name: parse_values(frame[name], infer_spec(frame[name]))
                             for name in ("bureau_score", "recovered")})
    bad = (frame["outcome"] == "default").to_numpy(dtype=np.int8)
    leaks = find_leaks(features, bad)
    assert [leak["column"] for leak in leaks] == ["recovered"]
    assert "blank" in leaks[0]["why"]


def test_time_split_when_a_time_column_is_given(contract_csv, capsys):
    """With --time-col the oldest 80% trains and the newest 20% tests, and the report says so."""
    code, report, _ = run_cli(capsys, "--csv", contract_csv, "--target", "status", "--bad", "BAD",
                              "--time-col", "opened")
    assert code == 0
    assert report["scheme"]["name"] == "time_split"
    assert report["scheme"]["time_column"] == "opened"
    assert report["scheme"]["test_rows"] == pytest.approx(0.2 * report["rows_labelled"], abs=2)
    assert pd.Timestamp(report["scheme"]["test_from"]) > pd.Timestamp("2012-01-01")
    assert "opened" not in report["features"]


def test_the_model_is_at_least_as_good_as_both_baselines():
    """On risk a linear scorecard cannot draw, the chosen model matches or beats both baselines out of sample."""
    features, bad = nonlinear_book(n=2000)
    result = evaluate(features, bad, folds=3, repeats=1)
    model = result["model"]["auc"]
    assert model >= result["candidates"]["logistic_scorecard"]["auc"]
    assert model >= result["candidates"]["lightgbm_default"]["auc"]
    assert model > 0.7


def test_out_writes_lightgbm_text_and_metadata_and_scores_again(tmp_path, capsys):
    """--out leaves a model file that is not a pickle, metadata with its sha256, and it scores raw rows again."""
    source = tmp_path / "book.csv"
    messy_book(1200, seed=5).to_csv(source, index=False)
    code, report, _ = run_cli(capsys, "--csv", source, "--target", "status", "--bad", "BAD", "--time-col", "opened",
                              "--out", tmp_path / "model")
    assert code == 0
    model, metadata = load_model(tmp_path / "model")
    assert metadata["sha256"] == file_sha256(tmp_path / "model" / metadata["model_file"])
    assert {"lightgbm", "pandas", "scikit-learn"} <= set(metadata["versions"])
    assert [f["name"] for f in metadata["features"]] == report["features"]
    assert not list((tmp_path / "model").glob("*.pkl"))
    rows = pd.read_csv(source, dtype=str, keep_default_na=False).head(50)
    scores = score_rows(rows, model, metadata)
    assert scores.shape == (50,) and np.all((scores > 0) & (scores < 1))


@pytest.mark.parametrize(("args", "words"), [
    (["--target", "outcome", "--bad", "BAD"], ["找不到目标列", "target column outcome not found"]),
    (["--target", "status", "--bad", "DEFAULTED"], ["从未出现", "never occurs"]),
])
def test_clear_errors_in_chinese_and_english(contract_csv, capsys, args, words):
    """A wrong target or bad value stops the command with a message in both languages."""
    code, report, err = run_cli(capsys, "--csv", contract_csv, *args)
    assert code == 2
    assert all(word in err for word in words)
    assert "error" in report


def test_too_few_bad_rows_is_refused(tmp_path, capsys):
    """Fewer than 50 bad labelled rows cannot make a model."""
    frame = messy_book(600, seed=2)
    frame["status"] = np.where(np.arange(600) < 30, "BAD", "OK")
    frame.to_csv(tmp_path / "few.csv", index=False)
    code, _, err = run_cli(capsys, "--csv", tmp_path / "few.csv", "--target", "status", "--bad", "BAD")
    assert code == 2
    assert "at least 50" in err and "至少需要 50" in err


def _linear_book(n, seed):
    """Six weak linear signals: in expectation a logistic scorecard ranks best, trees on 300 rows worse."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(6)})
    bad = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.5 * features.sum(axis=1))))).astype(int)
    return features, bad


def test_the_choice_is_made_by_repeated_cv_where_one_split_misleads():
    """On this 300-row book (seed 2) one stratified 80/20 validation split prefers the untuned LightGBM, the
    worst candidate on 20,000 fresh rows of the same book; 5 × 3 repeated CV on the same rows does not."""
    features, bad = _linear_book(300, 2)
    fresh, fresh_bad = _linear_book(20_000, 999)
    folds = models.selection_folds(bad, seed=2)
    assert len(folds) == 15 and all(np.bincount(np.concatenate([check for _, check in folds])) == 3)
    fit, check = models.validation_split(bad, seed=2)
    one_split = {name: auc(bad[check], models.fit_one(name, features.iloc[fit], bad[fit], seed=2)
                           .predict_proba(features.iloc[check])[:, 1]) for name in (models.TUNED, models.LOGISTIC,
                                                                                     models.DEFAULT)}
    misled = max(one_split, key=one_split.get)
    found = models.fit_candidates(features, bad, seed=2)
    on_fresh = {name: auc(fresh_bad, model.predict_proba(fresh)[:, 1]) for name, model in found.models.items()}
    assert misled == models.DEFAULT and on_fresh[misled] == min(on_fresh.values())
    assert found.chosen != misled and on_fresh[found.chosen] > on_fresh[misled] + 0.02


def test_large_books_are_chosen_on_folds_too_never_one_split():
    bad = np.tile([0, 0, 0, 1], 6_000)
    assert len(models.selection_folds(bad)) == 3
    assert len(models.selection_folds(np.tile([0, 1], 60_000))) == 2
    order = np.arange(1_000.0)
    forward = models.selection_folds(np.tile([0, 1], 500), order=order)
    assert [(len(fit), len(check)) for fit, check in forward] == [(400, 200), (600, 200), (800, 200)]
    assert all(order[fit].max() < order[check].min() for fit, check in forward)
