"""Train a credit model version: `python -m training.train --data DIR --out models/` (or `--db URL`,
which adds the platform's own loans labelled on their reports up to `--as-of`, default today; or
`--snapshot DIR`, a Parquet snapshot, with `--engine dask [--scheduler ADDRESS]` to build the features
per partition of subjects on a Dask cluster — docs/scale.md).

Out-of-time split, LightGBM with monotone constraints and early stopping on the validation period,
Platt calibration (its slope from that period, data the trees did not learn from; its level from every
loan before the holdout), evaluation on the newest
loans against the WOE scorecard and, when `_truth/` exists, the oracle. Prints, as its last line,
`{"version": ..., "path": ...}` of the new registry folder. Never activates a version.
"""
import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression

from app.common.region import town_codes
from app.config import Config
from app.credit import health, peers
from app.credit.cluster import SUBJECTS_PER_PARTITION
from app.credit.features import BY_NAME, FEATURE_NAMES, MODEL_INPUTS, categories
from app.credit.peers import with_peers
from app.credit.registry import ModelBundle, write_version
from app.credit.scale import Scale

from . import dataset, platform_labels
from .evaluation import evaluate, model_card

# Shallow trees: a district has a few hundred defaults, and explanations must stay fast.
PARAMS = {
    "objective": "binary", "learning_rate": 0.02, "num_leaves": 4, "max_depth": 2, "min_child_samples": 20,
    "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.5, "reg_lambda": 1.0,
    "monotone_constraints_method": "advanced", "verbose": -1, "deterministic": True, "force_col_wise": True,
    "num_threads": 2,
}
MAX_ROUNDS, PATIENCE = 3000, 150
LABEL_DEFINITION = {
    "department": ("贷后反馈 loans matured before the export: defaulted or ever 30+ days past due "
                   "(running loans left out)"),
    "platform": (f"the platform's loans: {platform_labels.BAD_DAYS_PAST_DUE}+ days past due, defaulted or written off "
                 f"within {platform_labels.WINDOW_MONTHS} months of disbursement, on reports up to the as-of date; "
                 "loans not yet through the window are censored (left out)"),
}


def fit_booster(examples, train, valid, seed, rounds=None):
    """LightGBM on the training period, stopped early on the validation period; with `rounds`, exactly
    that many rounds instead (a model of a chosen size, e.g. for a speed benchmark on a small district)."""
    params = {**PARAMS, "seed": seed, "monotone_constraints": [BY_NAME[n].monotone for n in MODEL_INPUTS]}
    X = examples.X[list(MODEL_INPUTS)]  # not the health filter's monthly inputs
    dtrain = lgb.Dataset(X[train], examples.y[train], free_raw_data=False)
    if rounds is not None:
        return lgb.train(params, dtrain, num_boost_round=rounds), params
    dvalid = lgb.Dataset(X[valid], examples.y[valid], reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=MAX_ROUNDS, valid_sets=[dvalid],
                        callbacks=[lgb.early_stopping(PATIENCE, verbose=False)])
    return booster, params


def platt(raw, y):
    """Slope and intercept mapping raw log-odds to calibrated log-odds (fitted on unseen loans)."""
    model = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(raw).reshape(-1, 1), y)
    return {"method": "platt", "slope": float(model.coef_[0][0]), "intercept": float(model.intercept_[0])}


def level_intercept(raw, y, slope, start=0.0):
    """The intercept that makes the mean of σ(slope · raw + intercept) over `raw` equal the default rate of `y`.

    Newton steps on Σ σ(slope · raw + a) = Σ y (the sum is increasing in a, so the root is unique).
    """
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=float)
    target, a = y.sum(), float(start)
    if not 0 < target < len(y):
        raise ValueError("the level needs good and bad loans")
    for _ in range(100):
        p = 1 / (1 + np.exp(-(slope * raw + a)))
        step = (p.sum() - target) / max((p * (1 - p)).sum(), 1e-12)
        a -= float(np.clip(step, -2, 2))
        if abs(step) < 1e-10:
            break
    return a


def calibrate(booster, X, y, train, valid):
    """Platt scaling whose slope comes from the validation period and whose level from every loan before the holdout.

    The slope (how far apart the trees' scores lie) needs loans the trees did not learn from: the
    validation period's. The level (the intercept) is then set so that the mean PD over the training
    and validation periods equals their default rate: about four times the defaults of the validation
    period alone, whose rate moves ±7 % (one sd) on a 50,000-firm district — docs/model.md, "Issue 16:
    calibration across time and groups". The holdout is never read.
    """
    seen = train | valid
    raw, y, valid = booster.predict(X[seen], raw_score=True, num_iteration=booster.best_iteration), y[seen], valid[seen]
    calibration = platt(raw[valid], y[valid])
    calibration["validation_intercept"] = calibration["intercept"]
    calibration["intercept"] = level_intercept(raw, y, calibration["slope"], calibration["intercept"])
    calibration["level"] = {"loans": int(len(y)), "bad": int(y.sum())}
    return calibration, raw[valid]


def code_revision():
    """The git commit of the code that trained the model, or "unknown"."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def metadata_for(examples, booster, params, calibration, cuts, towns):
    """Everything a loader needs to check and use the model."""
    levels = categories(towns)
    features = [{"name": n, "kind": BY_NAME[n].kind, "family": BY_NAME[n].family, "monotone": BY_NAME[n].monotone,
                 "reason": BY_NAME[n].reason, "actionable": BY_NAME[n].actionable,
                 **({"categories": levels[n]} if BY_NAME[n].kind == "cat" else {})} for n in MODEL_INPUTS]
    return {
        "features": features, "calibration": calibration, "scale": Scale().as_dict(),
        "libraries": {"lightgbm": lgb.__version__, "scikit-learn": sklearn.__version__, "pandas": pd.__version__,
                      "numpy": np.__version__, "python": sys.version.split()[0]},
        "data_fingerprint": examples.fingerprint, "code_revision": code_revision(),
        "parameters": {**params, "num_boost_round": booster.best_iteration or booster.current_iteration()},
        "split": {"method": "out_of_time", "shares": dataset.SPLIT_SHARES, "cuts": [str(c.date()) for c in cuts]},
        "label": LABEL_DEFINITION, "label_counts": examples.label_counts,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def ablate(examples, families):
    """Blank every feature of the named families (an ablation: the model cannot use them)."""
    names = [n for n in FEATURE_NAMES if BY_NAME[n].family in families]
    unknown = set(families) - {BY_NAME[n].family for n in FEATURE_NAMES}
    if unknown:
        raise SystemExit(f"unknown feature families: {', '.join(sorted(unknown))}")
    for name in names:
        examples.X[name] = (pd.Categorical([None] * len(examples.X), categories=examples.X[name].cat.categories)
                            if BY_NAME[name].kind == "cat" else np.nan)
    return names


def group_calibration_offsets(examples, rows, logit):
    """The per-group log-odds offsets (subject kind × file depth) fitted on `rows` (the validation period)."""
    X = examples.X[rows]
    groups = peers.calibration_groups(X["subject_kind"].astype(object), X["sources_present"])
    return peers.fit_group_offsets(logit, examples.y[rows], groups)


def train(examples, towns, seed=0, truth=None, options=None):
    """Fit, calibrate and evaluate; returns (booster, metadata, report).

    The peer tables are fitted on the training period only, then fill the percentile features of
    every loan (as scoring fills them from the stored tables); so are the health filter's parameters
    (app.credit.health, stored with them as `peers.health`). `options`: `ablate` (feature families
    left blank), `peers` (on by default), `health` (on by default) and `group_calibration` (off by
    default: on the 50k district measured, offsets fitted on the validation period moved farmers' mean
    PD away from their own, see docs/model.md); `rounds` (None: early stopping) fixes the number of
    boosting rounds.
    """
    options = {"ablate": (), "peers": True, "health": True, "group_calibration": False, "rounds": None,
               **(options or {})}
    cuts = examples.split_dates()
    train_mask, valid_mask, _hold = examples.parts(cuts)
    use_peers = options["peers"] and "peers" not in options["ablate"]
    tables = peers.fit_tables(examples.X[train_mask]) if use_peers else {}
    if options["health"] and "health" not in options["ablate"]:
        tables["health"] = health.fit(examples.X[train_mask])
    tables = tables or None
    examples.X = with_peers(examples.X, tables)
    filled = examples.X.copy() if options["ablate"] else examples.X
    ablated = ablate(examples, options["ablate"]) if options["ablate"] else []
    booster, params = fit_booster(examples, train_mask, valid_mask, seed, options["rounds"])
    calibration, raw_valid = calibrate(booster, examples.X[list(MODEL_INPUTS)], examples.y, train_mask, valid_mask)
    if options["group_calibration"]:
        logit = calibration["slope"] * raw_valid + calibration["intercept"]
        calibration["group_offsets"] = group_calibration_offsets(examples, valid_mask, logit)
    booster.free_dataset()
    metadata = metadata_for(examples, booster, params, calibration, cuts, towns)
    if tables is not None:
        metadata["peers"] = tables
    if ablated:
        metadata["ablated"] = {"families": list(options["ablate"]), "features": ablated}
    bundle = ModelBundle("candidate", None, booster, metadata, Scale())
    # Evaluation fills the peer and health features again from the version's tables, from the records as
    # they are (a left-out family's level or the subject's kind included), and then blanks the left-out
    # features as training did: the holdout is scored on the frame the model learned from.
    examples.X = filled
    report = evaluate(bundle, examples, truth)
    return booster, metadata, report


def new_version_name(fingerprint):
    """A sortable, unique version name: UTC time and the data fingerprint's start."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{fingerprint.rsplit(':', 1)[-1][:8]}"


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Train and register a credit model version.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="a district folder of department exports")
    source.add_argument("--db", help="a database URL of the platform (its stored department records)")
    source.add_argument("--snapshot", type=Path,
                        help="a Parquet snapshot of the platform's records (`flask data snapshot`)")
    parser.add_argument("--out", type=Path, default=Path("models"), help="the model registry folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="with --db: read the platform's loan reports up to this date (default: today)")
    parser.add_argument("--region", default=Config.REGION_CODE, help="region code of app/regions/<code>.json")
    parser.add_argument("--ablate", default="", help="feature families to leave blank, comma separated (ablation)")
    parser.add_argument("--no-peers", action="store_true", help="no peer tables (percentiles within peers missing)")
    parser.add_argument("--group-calibration", action="store_true",
                        help="per-group log-odds offsets after Platt scaling (off by default)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="exactly this many boosting rounds, no early stopping (a model of a fixed size)")
    parser.add_argument("--engine", choices=("pandas", "dask"), default="pandas",
                        help="dask: build the features per partition of subjects on a Dask cluster (needs --snapshot)")
    parser.add_argument("--scheduler", help="with --engine dask: the scheduler's address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=1, help="workers of the LocalCluster")
    parser.add_argument("--memory-limit", default="6GiB", help="memory limit of each LocalCluster worker")
    parser.add_argument("--partition-size", type=int, default=SUBJECTS_PER_PARTITION,
                        help="with --engine dask: subjects per partition (docs/scale.md, sizing)")
    args = parser.parse_args(argv)
    if args.engine == "dask" and args.snapshot is None:
        parser.error("--engine dask reads a snapshot: give --snapshot DIR (flask data snapshot --out DIR)")
    return args


def load_examples(args, towns):
    """Examples from the folder or the database named on the command line."""
    if args.data is not None:
        return dataset.examples_from_folder(args.data, towns)
    if args.snapshot is not None and args.engine == "dask":
        from app.credit.cluster import dask_client

        with dask_client(args.scheduler, args.workers, args.memory_limit):
            return dataset.examples_from_snapshot(args.snapshot, towns, "dask", args.partition_size)
    if args.snapshot is not None:
        return dataset.examples_from_snapshot(args.snapshot, towns)
    from app import create_app
    from app.common.dates import local_date
    from app.extensions import db

    with create_app({"SQLALCHEMY_DATABASE_URI": args.db}).app_context():
        return dataset.examples_from_db(db.session, towns, args.as_of or local_date())


def main(argv=None):
    """Command-line entry point."""
    args = parse_args(argv)
    started = time.perf_counter()
    towns = town_codes(args.region)
    examples = load_examples(args, towns)
    truth = dataset.truth_for(args.data, examples.loans) if args.data is not None else None
    options = {"ablate": tuple(f for f in args.ablate.split(",") if f), "peers": not args.no_peers,
               "group_calibration": args.group_calibration, "rounds": args.rounds}
    booster, metadata, report = train(examples, towns, args.seed, truth, options)
    metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    version = new_version_name(examples.fingerprint)
    folder = write_version(args.out, version, booster, metadata, report, model_card(version, metadata, report))
    print(f"AUC {report['auc']:.4f} (baseline {report['baseline_auc']:.4f}"
          + (f", oracle {report['oracle_auc']:.4f}" if "oracle_auc" in report else "") + ")", file=sys.stderr)
    print(json.dumps({"version": version, "path": str(folder)}))


if __name__ == "__main__":
    main()
