"""Evaluate a registered version: `python -m training.evaluate --model models/<v> --data DIR --json`.

Rebuilds the out-of-time holdout the version was trained with, and reports AUC, KS, Gini, Brier,
expected calibration error, the calibration table, lift by decile, the WOE baseline's AUC, PSI
between training and holdout scores, the oracle's figures when `DIR/_truth` exists, and the
fairness table. Writes the Markdown model card with `--card FILE`. With `--intervals N` (and the
oracle), the report gains `targets`: the issue-16 targets with 95 % intervals from N paired bootstrap
draws of the holdout loans (`training/intervals.py`).
"""
import argparse
import json
import sys
from pathlib import Path

from app.common.region import town_codes
from app.config import Config
from app.credit.features import MODEL_INPUTS
from app.credit.registry import RegistryError, load_version

from . import dataset, intervals
from .evaluation import evaluate, model_card


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Evaluate a registered credit model version.")
    parser.add_argument("--model", type=Path, required=True, help="a version folder of the registry")
    parser.add_argument("--data", type=Path, required=True, help="the district folder it is evaluated on")
    parser.add_argument("--json", action="store_true", help="print the report as JSON (last line)")
    parser.add_argument("--card", type=Path, help="write the Markdown model card here")
    parser.add_argument("--intervals", type=int, default=0, metavar="DRAWS",
                        help="add the issue-16 targets with 95 %% bootstrap intervals over DRAWS draws "
                             "(needs the district's _truth)")
    parser.add_argument("--region", default=Config.REGION_CODE, help="region code of app/regions/<code>.json")
    return parser.parse_args(argv)


def main(argv=None):
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        bundle = load_version(args.model, MODEL_INPUTS)
    except RegistryError as error:
        sys.exit(f"模型版本不可用 / model version refused: {error}")
    towns = town_codes(args.region)
    examples = dataset.examples_from_folder(args.data, towns)
    truth = dataset.truth_for(args.data, examples.loans)
    report = evaluate(bundle, examples, truth)
    if args.intervals:
        if truth is None:
            sys.exit("--intervals needs the oracle: the district has no _truth/")
        report["targets"] = intervals.target_intervals(intervals.holdout(bundle, examples, truth), args.intervals)
    if args.card:
        args.card.write_text(model_card(bundle.version, bundle.metadata, report), encoding="utf-8")
    headline = {k: v for k, v in report.items() if not isinstance(v, (list, dict))}
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in headline.items()),
          file=sys.stderr)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
