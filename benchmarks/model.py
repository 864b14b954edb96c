"""Credit model quality and training cost: `python -m benchmarks.model [--quick]`.

On a synthetic district of 20,000 firms with 60 months of history (seed 42; `--firms`, `--district-seed`
choose another), trains a version with `python -m training.train` and evaluates it with
`python -m training.evaluate --json --intervals 1000`, then prints AUC, oracle AUC, their ratio, the
gain over the WOE baseline, ECE, KS, Brier and PSI, and the issue-16 targets, each with its 95 % interval
(a paired bootstrap of the holdout loans, `training/intervals.py`) and whether it is met:
expected_auc_to_oracle >= 0.93, auc_gain_over_baseline >= 0.02, ece <= 0.015, group_calibration (every
group with >= 100 holdout loans within 0.85-1.18 of the oracle's mean PD) and four_fifths_subject_kind
(a subject kind flagged only where the oracle's own grades flag it). The issue states them for a
50,000-firm district (`--firms 50000`); on the default and `--quick` districts they are indicative only.
It also times the train command (wall seconds, peak resident memory of the child process) on 20,000
and 200,000 firms. `--quick` uses 3,000 firms for the figures and times 3,000 and 10,000; `--timed`
chooses the timed sizes and `--seeds 0,1,2` trains the quality district with several seeds (the
holdout has ~90 bad loans, so the figures are noisy: the spread and the bootstrap interval say how).

Districts are cached under instance/bench-cache/ (git-ignored) and reused while their summary file
is there; model versions go to a temporary registry. The last line printed is one JSON object.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training import intervals

SEED, MONTHS, TRAIN_SEED = 42, 60, 0
FIRMS, QUICK_FIRMS = 20_000, 3_000
TIMED, QUICK_TIMED = (20_000, 200_000), (3_000, 10_000)
CACHE = Path(__file__).resolve().parents[1] / "instance" / "bench-cache"
DRAWS = 1000  # bootstrap draws of the targets' intervals
FIGURES = ("auc", "oracle_auc", "auc_to_oracle", "baseline_auc", "auc_gain_over_baseline", "ece", "ks", "brier",
           "psi", "expected_auc", "oracle_expected_auc", "expected_auc_to_oracle")
# Figures that vary with the training seed: their mean and spread over `--seeds`.
SPREAD = ("auc", "auc_to_oracle", "auc_gain_over_baseline", "ece", "expected_auc_to_oracle")




def run_measured(command):
    """Run a command; its stdout, wall seconds and the child's peak resident memory in MB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        # wait4 gives this child's own resource usage (getrusage(RUSAGE_CHILDREN) is a maximum over all).
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-3000:]}")
    kilobytes = usage.ru_maxrss / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, kB on Linux
    return stdout, round(seconds, 1), round(kilobytes / 1024, 1)


def last_json(stdout):
    """The JSON object a project command prints as its last line."""
    return json.loads(stdout.strip().splitlines()[-1])


def district(firms, cache=CACHE, seed=SEED):
    """The cached district folder of `firms` firms, generated when its summary is missing."""
    folder = cache / f"model-district-{firms}-m{MONTHS}-s{seed}"
    summary = folder.with_name(folder.name + ".json")
    if not summary.exists():
        print(f"generating {firms:,} firms into {folder} …", file=sys.stderr, flush=True)
        stdout, _, _ = run_measured([sys.executable, "-m", "training.synth", "--firms", str(firms), "--seed",
                                     str(seed), "--months", str(MONTHS), "--out", str(folder)])
        summary.write_text(stdout.strip().splitlines()[-1], encoding="utf-8")
    return folder


def train(folder, registry, seed=TRAIN_SEED):
    """Train one version on `folder`; (version path, wall seconds, peak MB)."""
    stdout, seconds, peak_mb = run_measured([sys.executable, "-m", "training.train", "--data", str(folder),
                                             "--out", str(registry), "--seed", str(seed)])
    return last_json(stdout)["path"], seconds, peak_mb


def evaluate(version, folder, draws=0):
    """The evaluation report of a version on the district it was trained on (with `draws`: the targets
    with their bootstrap intervals)."""
    stdout, _, _ = run_measured([sys.executable, "-m", "training.evaluate", "--model", str(version), "--data",
                                 str(folder), "--json", *(["--intervals", str(draws)] if draws else [])])
    return last_json(stdout)


def measure(quality_firms, timed_sizes, cache=CACHE, seeds=(TRAIN_SEED,), district_seed=SEED):
    """Quality figures on the first district and the training cost on every timed size.

    The figures are those of the first training seed; with several seeds, `by_seed` and `spread`
    (mean and sample standard deviation of SPREAD) say how much they move with the seed. `targets`
    holds the issue-16 targets of the first seed with their 95 % intervals, `targets_met` whether each
    is met.
    """
    result = {"firms": quality_firms, "months": MONTHS, "seed": district_seed}
    training = []
    with tempfile.TemporaryDirectory() as registry:
        for firms in dict.fromkeys((quality_firms, *timed_sizes)):
            folder = district(firms, cache, district_seed if firms == quality_firms else SEED)
            version, seconds, peak_mb = train(folder, registry, seeds[0])
            if firms in timed_sizes:
                training.append({"firms": firms, "seconds": seconds, "peak_mb": peak_mb})
                print(f"train {firms:>9,} firms  {seconds:>7.1f} s  {peak_mb:>8.1f} MB", flush=True)
            if firms == quality_firms:
                report = evaluate(version, folder, DRAWS)
                result |= {key: report[key] for key in FIGURES}
                result |= {"auc_to_oracle_ci95": report["auc_to_oracle_ci95"], "holdout_loans": report["n"],
                           "holdout_bads": report["bads"], "targets": report["targets"]}
                result["by_seed"] = [{"train_seed": seeds[0], **{key: report[key] for key in SPREAD}}]
                for seed in seeds[1:]:
                    other = evaluate(train(folder, registry, seed)[0], folder)
                    result["by_seed"].append({"train_seed": seed, **{key: other[key] for key in SPREAD}})
    if len(result.get("by_seed", ())) > 1:
        values = {key: [row[key] for row in result["by_seed"]] for key in SPREAD}
        result["spread"] = {key: {"mean": statistics.mean(v), "sd": statistics.stdev(v)} for key, v in values.items()}
    result["training"] = training
    result["targets_met"] = intervals.targets_met(result["targets"])
    return result


def _interval(ci):
    low, high = ci
    return "—" if low is None else f"{low:.4f} to {high:.4f}"


def print_figures(result):
    """The quality figures, one a line, with the targets."""
    print(f"{result['firms']:,} firms, {result['months']} months, seed {result['seed']}: holdout "
          f"{result['holdout_loans']} loans, {result['holdout_bads']} bad")
    for key in FIGURES:
        print(f"{key:<24}{result[key]:>9.4f}")
    low, high = result["auc_to_oracle_ci95"]
    print(f"auc_to_oracle, 95 % paired bootstrap of the holdout: {low:.4f} to {high:.4f}")
    targets = result["targets"]
    print(f"issue-16 targets ({targets['draws']} paired bootstrap draws of the holdout loans):")
    for key in intervals.TARGETS:
        target = targets[key]
        print(f"  {key:<24}{target['value']:>9.4f}  95 % {_interval(target['ci95'])}  target {target['target']}: "
              f"{'met' if target['met'] else 'NOT met'}")
    calibration = targets["group_calibration"]
    print(f"  group_calibration       {calibration['groups_within']} of {calibration['groups_judged']} groups with "
          f">= {intervals.GROUP_MIN_LOANS} loans within {intervals.GROUP_RATIO[0]}-{intervals.GROUP_RATIO[1]}: "
          f"{'met' if calibration['met'] else 'NOT met'} (in {calibration['share_of_draws_met']:.0%} of the draws)")
    for group in calibration["groups"]:
        if group["judged"]:
            print(f"    {group['dimension']:<13}{group['group']:<20}n {group['n']:>5}  predicted ÷ oracle "
                  f"{group['ratio_to_oracle']:.3f}  95 % {_interval(group['ci95'])}")
    fairness = targets["four_fifths_subject_kind"]
    print(f"  four_fifths_subject_kind flagged {fairness['flagged'] or 'none'}, by the oracle's grades "
          f"{fairness['oracle_flagged'] or 'none'}: {'met' if fairness['met'] else 'NOT met'} "
          f"(in {fairness['share_of_draws_met']:.0%} of the draws)")
    for group in fairness["groups"]:
        print(f"    {group['group']:<20}n {group['n']:>5}  approval ÷ best {group['ratio_to_best']:.3f} "
              f"(95 % {_interval(group['ci95'])}), oracle's {group['oracle_ratio_to_best']:.3f} "
              f"(95 % {_interval(group['oracle_ci95'])})")
    for key, spread in result.get("spread", {}).items():
        print(f"{key:<24}{spread['mean']:>9.4f} ± {spread['sd']:.4f} over {len(result['by_seed'])} training seeds")


def main(argv=None):
    """Measure and print the figures; the last line is the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 firms for the figures; time 3k and 10k")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated districts are kept")
    parser.add_argument("--firms", type=int, help=f"firms of the quality district (default {FIRMS:,}; "
                                                  f"{QUICK_FIRMS:,} with --quick; the issue-16 targets: 50,000)")
    parser.add_argument("--district-seed", type=int, default=SEED, help=f"the quality district's seed (default {SEED})")
    parser.add_argument("--timed", help="comma-separated firm counts to time training on (default 20k and 200k; "
                                        "3k and 10k with --quick)")
    parser.add_argument("--seeds", default=str(TRAIN_SEED),
                        help="comma-separated training seeds; figures of the first, spread over all (e.g. 0,1,2)")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    timed = (tuple(int(n) for n in args.timed.split(",")) if args.timed
             else QUICK_TIMED if args.quick else TIMED)
    seeds = tuple(int(n) for n in args.seeds.split(","))
    firms = args.firms or (QUICK_FIRMS if args.quick else FIRMS)
    result = measure(firms, timed, args.cache, seeds, args.district_seed)
    print_figures(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
