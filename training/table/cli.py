"""`python -m training.train_table`: train and evaluate a credit model on a lender's own loan book CSV."""
import argparse
import json
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .artifact import save_model
from .book import load_book
from .evaluate import evaluate
from .leakage import find_leaks
from .models import BLEND, DEFAULT, LOGISTIC, PLAIN, TUNED, fit_candidates
from .reading import BookError

NAMES = {TUNED: "tuned LightGBM", LOGISTIC: "logistic scorecard", PLAIN: "plain logistic regression",
         DEFAULT: "LightGBM (default parameters)", BLEND: "blend of the tuned LightGBM and both logistics"}


def build_parser():
    """The command's arguments."""
    parser = argparse.ArgumentParser(prog="python -m training.train_table", description=__doc__.split(": ", 1)[1])
    parser.add_argument("--csv", required=True, help="the loan book, as exported (UTF-8, UTF-8 with BOM or GBK)")
    parser.add_argument("--target", required=True, help="the outcome column")
    parser.add_argument("--bad", required=True, help="the target value that marks a bad loan")
    parser.add_argument("--time-col", help="a date column: train on the oldest 80%%, test on the newest 20%%")
    parser.add_argument("--drop", default="", help="comma-separated columns to leave out")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line last on stdout")
    parser.add_argument("--out", help="folder for the fitted model (LightGBM text or scorecard JSON) and metadata")
    parser.add_argument("--folds", type=int, default=5, help="folds of the repeated CV used for small books")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of that CV")
    parser.add_argument("--seed", type=int, default=0, help="seed for splits and sampling")
    return parser


def _time_label(value, spec):
    if spec["type"] == "date":
        return str((pd.Timestamp("1970-01-01") + pd.Timedelta(days=value)).date())
    return value


def _scheme(result, book, time_col):
    scheme = dict(result["scheme"])
    if "test_from" in scheme:
        scheme["test_from"] = _time_label(scheme["test_from"], book.specs[time_col])
        scheme["time_column"] = time_col
    return scheme


def _metrics(result):
    rounded = {name: {k: round(v, 4) for k, v in found.items()} for name, found in result["candidates"].items()}
    model = {k: round(v, 4) for k, v in result["model"].items()}
    return {"auc": model["auc"], "ks": model["ks"], "auc_sd": model["auc_sd"],
            "logistic_auc": rounded[LOGISTIC]["auc"], "logistic_ks": rounded[LOGISTIC]["ks"],
            "lightgbm_default_auc": rounded[DEFAULT]["auc"], "lightgbm_default_ks": rounded[DEFAULT]["ks"],
            "tuned_lightgbm_auc": rounded[TUNED]["auc"], "tuned_lightgbm_ks": rounded[TUNED]["ks"],
            "plain_logistic_auc": rounded[PLAIN]["auc"], "plain_logistic_ks": rounded[PLAIN]["ks"],
            "blend_auc": rounded[BLEND]["auc"], "blend_ks": rounded[BLEND]["ks"],
            "candidates": rounded}


def _inferred(book, args):
    """Column → type, how it was parsed and what it is used for; the target first."""
    target = {"type": "target", "role": "target",
              "how": f"{args.bad!r} → bad (1), other values → good (0), "
                     f"blank → unlabelled ({book.rows_unlabelled} rows)"}
    return {args.target: target, **{name: {"type": spec["type"], "how": spec["how"], "role": spec["role"]}
                                    for name, spec in book.specs.items()}}


def _chosen_reason(result):
    chosen, counts = result["chosen"], result["chosen_per_split"]
    splits = sum(counts.values())
    if chosen == TUNED:
        lead = "the tuned LightGBM beat the other candidates on the validation rows"
    elif chosen == BLEND:
        lead = f"the {NAMES[BLEND]} ranked best on the validation rows, or within one standard error of the best"
    else:
        lead = f"the {NAMES[chosen]} beat the tuned LightGBM on the validation rows, so it is used"
    return f"{lead} ({counts.get(chosen, 0)} of {splits} splits)"


def run(args):
    """Load, check, evaluate and optionally save; returns the report as a dict."""
    started = time.perf_counter()
    drop = [name.strip() for name in args.drop.split(",") if name.strip()]
    book = load_book(args.csv, args.target, args.bad, args.time_col, drop)
    stages = {"read_and_parse": time.perf_counter() - started}
    leakage = find_leaks(book.features, book.bad, seed=args.seed)
    stages["leakage"] = time.perf_counter() - started - sum(stages.values())
    for leak in leakage:
        book.specs[leak["column"]]["role"] = f"leakage: {leak['why']}"
    features = book.features.drop(columns=[leak["column"] for leak in leakage])
    if features.shape[1] == 0:
        raise BookError("剔除泄漏列后没有可用特征", "no features are left once the leaking columns are dropped")
    result = evaluate(features, book.bad, time=book.time, folds=args.folds, repeats=args.repeats, seed=args.seed)
    stages["evaluate"] = time.perf_counter() - started - sum(stages.values())
    report = {
        "rows": book.rows, "rows_labelled": len(book.bad), "rows_unlabelled": book.rows_unlabelled,
        "bad_rate": round(float(np.mean(book.bad)), 4), "encoding": book.encoding,
        **_metrics(result), "chosen": result["chosen"], "chosen_per_split": result["chosen_per_split"],
        "chosen_reason": _chosen_reason(result),
        "validation_auc": {k: round(v, 4) for k, v in result["validation_auc"].items()},
        "scheme": _scheme(result, book, args.time_col),
        "leakage": leakage, "id_like": [{"column": c, "why": w} for c, w in book.excluded.items()],
        "features": list(features.columns),
        "inferred": _inferred(book, args),
        "fit_seconds": {k: round(v, 3) for k, v in result["fit_seconds"].items()},
    }
    if args.out:
        report["out"] = _save(args, book, features, report)
        stages["final_fit_and_save"] = time.perf_counter() - started - sum(stages.values())
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["stage_seconds"] = {stage: round(seconds, 2) for stage, seconds in stages.items()}
    report["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


def _save(args, book, features, report):
    """Fit the candidates on every labelled row, keep the one the validation rows prefer, and write it."""
    order = None if book.time is None else np.nan_to_num(book.time, nan=-np.inf)
    with threadpool_limits(limits=1, user_api="blas"):
        final = fit_candidates(features, book.bad, order=order, seed=args.seed, workers=2)
    summary = {key: report[key] for key in ("rows", "rows_labelled", "rows_unlabelled", "bad_rate", "auc", "ks",
                                            "logistic_auc", "lightgbm_default_auc", "scheme", "leakage", "id_like")}
    summary["target"] = {"column": args.target, "bad": args.bad}
    metadata = save_model(args.out, final, book.specs, list(features.columns), summary, args.csv)
    return {"folder": args.out, "model_file": metadata["model_file"], "chosen": final.chosen,
            "sha256": metadata["sha256"]}


def render(report):
    """The report as lines of text for people."""
    lines = [f"行数 rows {report['rows']:,} (labelled {report['rows_labelled']:,}, unlabelled "
             f"{report['rows_unlabelled']:,}), bad rate {report['bad_rate']:.1%}, encoding {report['encoding']}",
             "列 columns:"]
    width = max(len(name) for name in report["inferred"])
    for name, found in report["inferred"].items():
        lines.append(f"  {name:<{width}}  {found['type']:<8}  {found['how']}  [{found['role']}]")
    for leak in report["leakage"]:
        lines.append(f"泄漏 leakage, dropped: {leak['column']} — {leak['why']} (AUC {leak['auc']:.3f})")
    scheme = report["scheme"]
    lines.append("评估 scheme: " + ", ".join(f"{k} {v}" for k, v in scheme.items()))
    lines.append(f"  {'':<32} {'AUC':>6} {'KS':>6}")
    lines.append(f"  {'chosen model (' + report['chosen'] + ')':<32} {report['auc']:>6.3f} {report['ks']:>6.3f}")
    for name, found in report["candidates"].items():
        lines.append(f"  {NAMES[name]:<32} {found['auc']:>6.3f} {found['ks']:>6.3f}")
    lines.append(f"选择 chosen: {report['chosen_reason']}")
    if "out" in report:
        lines.append(f"模型 saved: {report['out']['folder']}/{report['out']['model_file']} ({report['out']['chosen']})")
    lines.append(f"用时 seconds {report['seconds']}, peak memory {report['peak_mb']} MB")
    return lines


def main(argv=None):
    """Run the command; exit 2 with a Chinese and English message when the book cannot be used."""
    args = build_parser().parse_args(argv)
    text_out = sys.stderr if args.json else sys.stdout
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            report = run(args)
    except BookError as error:
        print(f"错误：{error.zh}\nerror: {error.en}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": error.en, "error_zh": error.zh}))
        sys.exit(2)
    print("\n".join(render(report)), file=text_out)
    if args.json:
        print(json.dumps(report))
