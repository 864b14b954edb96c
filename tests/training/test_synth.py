"""The synthetic district: reproducible, shaped like the declared exports, messy on purpose."""
import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from statistics import median

import pytest
from openpyxl import load_workbook
from stdnum.cn import uscc

from app.common.checksums import file_sha256
from app.common.vocab import DECLINE_REASONS
from app.ingest.sources import SOURCES, get_source, source_for_file
from training.synth import Settings, generate
from training.synth.__main__ import main

ENCODINGS = {"税务": "gb18030", "市场监管": "utf-8-sig", "社保": "utf-8-sig"}
BOM = b"\xef\xbb\xbf"
SMALL = {"firms": 300, "months": 24, "end": "2025-12"}


def _run(out, seed, **options):
    return generate(Settings(out=str(out), seed=seed, **options), log=io.StringIO())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 300-firm district (24 months to 2025-12), seed 11."""
    out = tmp_path_factory.mktemp("small")
    return out, _run(out, 11, **SMALL)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """A 5,000-firm district in chunks of 2,000 (the intercept calibrated on the first chunk)."""
    out = tmp_path_factory.mktemp("large")
    return out, _run(out, 5, firms=5000, chunk_size=2000)


def _digests(directory):
    return {p.relative_to(directory).as_posix(): file_sha256(p)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _rows(path):
    """Header and rows of an export, read the way its department writes it."""
    if path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True).active
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        return values[0], values[1:]
    encoding = ENCODINGS.get(source_for_file(path.name).department, "utf-8")
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _source_rows(directory, name, pattern="*"):
    source = get_source(name)
    rows = []
    for path in sorted(directory.glob(f"{source.file_prefix}_{pattern}")):
        rows += _rows(path)[1]
    return [dict(zip([c.name for c in source.columns], row, strict=True)) for row in rows]


def _truth(directory, name):
    with (directory / "_truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_command_prints_a_json_summary_last(tmp_path, capsys):
    main(["--firms", "50", "--seed", "3", "--out", str(tmp_path), "--months", "18", "--end", "2026-03"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["firms"] == 50
    assert summary["files"] == len([p for p in tmp_path.iterdir() if p.is_file()])
    assert summary["rows"]["registration"] >= 50
    assert summary["seconds"] >= 0


def test_same_seed_gives_identical_files_and_another_seed_does_not(small, tmp_path):
    out, _summary = small
    _run(tmp_path / "again", 11, **SMALL)
    assert _digests(tmp_path / "again") == _digests(out)
    _run(tmp_path / "other", 12, **SMALL)
    assert _digests(tmp_path / "other") != _digests(out)


def test_a_second_run_overwrites_the_files_of_the_first(tmp_path):
    _run(tmp_path, 1, firms=40, months=24, end="2026-09")
    _run(tmp_path, 1, firms=40, months=24, end="2025-06")
    assert not list(tmp_path.glob("*_2026.csv"))


def test_every_file_is_a_declared_export_with_its_headers_and_encoding(small):
    out, _summary = small
    files = [p for p in out.iterdir() if p.is_file()]
    assert {source_for_file(p.name).name for p in files} == {s.name for s in SOURCES}
    for path in files:
        source = source_for_file(path.name)
        assert path.name.startswith(f"{source.file_prefix}_")
        header, _data = _rows(path)
        assert header == [c.header for c in source.columns], path.name
        if path.suffix == ".csv":
            raw = path.read_bytes()
            assert raw.startswith(BOM) == (ENCODINGS.get(source.department) == "utf-8-sig"), path.name
    assert (out / "税务_纳税信用等级_2024.xlsx").exists()
    with pytest.raises(UnicodeDecodeError):
        (out / "税务_月度申报_2025.csv").read_bytes().decode("utf-8")


def test_registered_codes_are_valid_and_unique(small):
    out, _summary = small
    rows = {tuple(r.values()) for r in _source_rows(out, "registration")}
    codes = [row[0] for row in rows]
    kinds = Counter(row[2] for row in rows)
    assert len(codes) == len(set(codes)) == 300
    assert set(kinds) == {"企业", "个体工商户", "农民专业合作社", "农户"}
    for code, kind in ((row[0], row[2]) for row in rows):
        normal = code.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if kind == "农户":
            assert re.fullmatch(r"610203\d{12}", normal)
        else:
            assert uscc.is_valid(normal), code
            assert normal[:2] == {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}[kind]


def test_thin_files_farmers_and_small_shops_lack_tax_and_social_insurance(small):
    out, _summary = small
    registration = {r["subject_code"]: r["kind"] for r in _source_rows(out, "registration")}
    taxed = {r["subject_code"] for r in _source_rows(out, "tax_filing")}
    insured = {r["subject_code"] for r in _source_rows(out, "social_insurance")}
    farmers = [c for c, kind in registration.items() if kind == "农户"]
    assert sum(c not in taxed for c in farmers) > 0.9 * len(farmers)
    assert not insured & set(farmers)
    shops = [c for c, kind in registration.items() if kind == "个体工商户"]
    assert 0.2 < sum(c in taxed for c in shops) / len(shops) < 0.8


def test_monthly_records_cover_the_requested_months(small):
    out, _summary = small
    for name in ("tax_filing", "utilities", "social_insurance"):
        months = {r["period"] for r in _source_rows(out, name) if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", r["period"])}
        assert min(months) == "2024-01" and max(months) == "2025-12" and len(months) == 24, name


def test_the_mess_is_there(small):
    out, _summary = small
    corrections = sorted(out.glob("税务_月度申报_更正_*.csv"))
    assert corrections
    names = sorted(p.name for p in out.glob("税务_月度申报_*.csv"))
    assert names[-len(corrections):] == [p.name for p in corrections]
    defects = _truth(out, "defects.csv")
    kinds = Counter(d["defect"] for d in defects)
    assert kinds["duplicate"] > 0 and sum(kinds.values()) > kinds["duplicate"]
    for defect in defects[:50]:
        header, rows = _rows(out / defect["file"])
        row = rows[int(defect["line"]) - 2]
        if defect["defect"] == "duplicate":
            assert rows.count(row) >= 2
        if defect["defect"] == "bad_month":
            assert any(re.fullmatch(r"\d{4}-13", cell) for cell in row)


def test_decline_reasons_are_known_codes_and_only_on_declines(large):
    out, _summary = large
    applications = _source_rows(out, "application_history")
    decided = [a for a in applications if a["decision"] in ("批准", "拒绝")]
    assert {a["decision"] for a in decided} == {"批准", "拒绝"}
    for application in decided:
        reasons = [r for r in application["decline_reasons"].split(";") if r]
        if application["decision"] == "批准":
            assert not reasons
        else:
            assert 1 <= len(reasons) <= 3 and set(reasons) <= set(DECLINE_REASONS)


def test_defaults_follow_the_configured_rate_and_the_oracle_ranks_them(large):
    out, summary = large
    loans = _truth(out, "loans.csv")
    assert len(loans) > 1500
    rate = sum(int(loan["defaulted"]) for loan in loans) / len(loans)
    assert abs(rate - 0.05) < 0.02
    assert summary["default_rate"] == pytest.approx(rate, abs=1e-4)
    pd_of = sorted((float(loan["true_pd"]), int(loan["defaulted"])) for loan in loans)
    riskiest = pd_of[-len(pd_of) // 5:]
    assert sum(d for _, d in riskiest) > 0.5 * sum(d for _, d in pd_of)


def test_truth_covers_every_reported_loan(large):
    out, _summary = large
    truth = {(loan["institution"], loan["loan_no"]) for loan in _truth(out, "loans.csv")}
    # Planted blank cells leave some rows without a key; every keyed row must have its truth.
    reported = {(r["institution"], r["loan_no"]) for r in _source_rows(out, "loan_feedback")
                if r["loan_no"] and r["institution"]}
    assert reported and reported <= truth
    assert {r["institution_kind"] for r in _source_rows(out, "loan_feedback")} >= {
        "银行", "担保公司", "小额贷款公司", "典当行"}


def test_winter_heating_lifts_gas_use(large):
    out, _summary = large
    use = {"winter": [], "summer": []}
    for row in _source_rows(out, "utilities"):
        month = row["period"][5:]
        if row["utility"] == "燃气" and month in ("01", "07") and re.fullmatch(r"[\d.]+", row["usage"]):
            use["winter" if month == "01" else "summer"].append(float(row["usage"]))
    assert median(use["winter"]) > 1.5 * median(use["summer"])


def test_truth_lists_every_firm_with_its_latent_risk(small):
    out, _summary = small
    firms = _truth(out, "firms.csv")
    assert len(firms) == 300
    assert all(float(f["latent_risk"]) == float(f["latent_risk"]) for f in firms)
    assert Path(out / "_truth" / "loans.csv").exists()
