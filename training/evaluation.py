"""Evaluating a model version on the out-of-time holdout: quality, baseline, oracle, fairness."""
import numpy as np
import pandas as pd

from app.credit.features import MODEL_INPUTS
from app.credit.metrics import auc, psi, reference_bins
from app.credit.peers import with_peers

from . import metrics
from .scorecard import WoeScorecard

APPROVED_GRADES = ("A", "B", "C")  # the grade cut-off used for the fairness table
FAIRNESS_GROUPS = ("subject_kind", "town", "size_class", "thin_file")


def _records(frame):
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def evaluate(bundle, examples, truth=None):
    """The evaluation report (JSON-ready) of `bundle` on `examples`' holdout."""
    cuts = [pd.Timestamp(d) for d in bundle.metadata["split"]["cuts"]]
    train, _valid, hold = examples.parts(cuts)
    # the version's own peer tables fill the percentile features (the baseline reads them too)
    described, y = with_peers(examples.X, bundle.metadata.get("peers")), examples.y
    X = _left_out(described, (bundle.metadata.get("ablated") or {}).get("features", ()))
    p_train, p_hold = bundle.predict_pd(X[train]), bundle.predict_pd(X[hold])
    report = metrics.summary(y[hold], p_hold)
    inputs = X[[name for name in MODEL_INPUTS if name in X.columns]]  # the model's inputs, not the filter's months
    baseline = WoeScorecard().fit(inputs[train], y[train])
    report["baseline_auc"] = auc(y[hold], baseline.predict_proba(inputs[hold])[:, 1])
    report["auc_gain_over_baseline"] = report["auc"] - report["baseline_auc"]
    report["psi"] = psi(bundle.scale.points(p_train), bundle.scale.points(p_hold))
    report["training_scores"] = _training_scores(bundle, p_train)
    report["calibration"] = _records(metrics.calibration_table(y[hold], p_hold))
    report["lift"] = _records(metrics.lift_by_decile(y[hold], p_hold))
    report["holdout"] = {"from": str(cuts[1].date()), "loans": int(hold.sum()), "train_loans": int(train.sum())}
    if truth is not None:
        report.update(_oracle(y[hold], p_hold, truth[hold], report["auc"]))
    # groups are what the loans are (subject kind, town, …), also when the model was trained without them
    report["fairness"] = _fairness(bundle, described[hold], y[hold], p_hold)
    if truth is not None:  # the same table for the grades the true PD would give: which flags the data itself raises
        known = np.nan_to_num(truth[hold], nan=np.nanmean(truth[hold]))
        report["fairness_oracle"] = _fairness(bundle, described[hold], y[hold], known)
    report["group_calibration"] = group_calibration(described[hold], y[hold], p_hold,
                                                    None if truth is None else truth[hold])
    return report


def _left_out(X, names):
    """`X` with the features a version was trained without blanked, as training blanked them (an ablation)."""
    if not len(names):
        return X
    X = X.copy()
    for name in names:
        X[name] = (pd.Categorical([None] * len(X), categories=X[name].cat.categories)
                   if isinstance(X[name].dtype, pd.CategoricalDtype) else np.nan)
    return X


def fairness_groups(X):
    """Each row's group in every fairness dimension (subject kind, town, size class, thin file)."""
    return {"subject_kind": X["subject_kind"].astype(object), "town": X["town"].astype(object),
            "size_class": X["size_class"].astype(object),
            "thin_file": np.where(X["sources_present"] <= 1, "thin", "full")}


def group_calibration(X, y, p, true_pd=None):
    """Mean predicted PD, realised default rate and the oracle's mean PD per group of every dimension."""
    groups = fairness_groups(X)
    return [row for name in FAIRNESS_GROUPS for row in metrics.group_calibration(name, groups[name], y, p, true_pd)]


def _training_scores(bundle, p_train):
    """The training population's score bins (for PSI as the platform meets new populations, docs/regulator.md)
    and its grade shares."""
    points = bundle.scale.points(p_train)
    cuts, shares = reference_bins(points)
    grades = pd.Series(bundle.scale.grades(p_train)).value_counts(normalize=True)
    return {"n": int(len(points)), "cuts": [float(c) for c in cuts], "shares": [float(s) for s in shares],
            "grades": {str(g): round(float(v), 6) for g, v in grades.sort_index().items()}}


def _oracle(y, p, true_pd, model_auc):
    known = ~np.isnan(true_pd)
    oracle_auc = auc(y[known], true_pd[known])
    # The realised AUCs ride on which ~90 holdout loans happened to default; the expected AUCs (labels
    # drawn from the true PD, in closed form) and a paired bootstrap of the ratio say how much.
    expected, oracle_expected = metrics.expected_auc(p[known], true_pd[known]), metrics.expected_auc(
        true_pd[known], true_pd[known])
    return {"oracle_auc": oracle_auc, "oracle_brier": float(np.mean((true_pd[known] - y[known]) ** 2)),
            "oracle_ece": metrics.ece(y[known], true_pd[known]), "auc_to_oracle": model_auc / oracle_auc,
            "auc_to_oracle_ci95": metrics.bootstrap_ratio(y[known], p[known], true_pd[known]),
            "expected_auc": expected, "oracle_expected_auc": oracle_expected,
            "expected_auc_to_oracle": expected / oracle_expected,
            "model_auc_on_oracle_rows": auc(y[known], p[known])}


def _fairness(bundle, X, y, p):
    approved = np.isin(bundle.scale.grades(p), APPROVED_GRADES)
    groups = fairness_groups(X)
    return {name: _records(metrics.fairness(y, approved, groups[name])) for name in FAIRNESS_GROUPS}


def _f(value, spec=".4f"):
    """A figure for the card; a dash where it could not be computed."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return format(value, spec)


def _label_lines(metadata):
    """The card's account of where the labels came from: good and bad per source, censored loans."""
    counts = metadata.get("label_counts")
    if not counts:
        return []
    lines = ["## Labels", "", "| source | good | bad | censored (left out) |", "|---|---|---|---|"]
    names = {"department": "department loan feedback (贷后反馈)", "platform": "platform loans"}
    for source, name in names.items():
        if source in counts:
            row = counts[source]
            lines.append(f"| {name} | {row['good']} | {row['bad']} | {row.get('censored', '—')} |")
    lines.append("")
    definition = metadata.get("label")
    if isinstance(definition, dict):
        lines += [f"- {names[source]}: {text}" for source, text in definition.items() if source in counts]
    if "duplicates_dropped" in counts:
        lines.append(f"- department rows that are platform loans, counted once as the platform's: "
                     f"{counts['duplicates_dropped']}")
    return [*lines, ""]


def model_card(version, metadata, report):
    """The Markdown model card of a version."""
    lines = [
        f"# Model card · {version}", "",
        "Credit model of 印台区数字金融服务平台: probability that a loan defaults, from department data "
        "gathered with the firm's consent, as of the loan's disbursement date.", "",
        "## Data", f"- training data fingerprint: `{metadata['data_fingerprint']}`",
        f"- code revision: `{metadata['code_revision']}`",
        f"- loans: train {report['holdout']['train_loans']}, holdout {report['holdout']['loans']} "
        f"(out of time, disbursed from {report['holdout']['from']})", "",
        *_label_lines(metadata),
        "## Quality on the out-of-time holdout", "",
        "| figure | model | baseline (WOE scorecard) | oracle |", "|---|---|---|---|",
        f"| AUC | {_f(report['auc'])} | {_f(report['baseline_auc'])} | {_f(report.get('oracle_auc'))} |",
        f"| KS | {_f(report['ks'])} | | |",
        f"| Brier | {_f(report['brier'], '.5f')} | | {_f(report.get('oracle_brier'), '.5f')} |",
        f"| ECE | {_f(report['ece'])} | | |",
        f"| PSI train → holdout scores | {_f(report['psi'])} | | |", "",
    ]
    if "auc_to_oracle" in report:
        low, high = report["auc_to_oracle_ci95"]
        lines += [f"AUC relative to the oracle: {_f(report['auc_to_oracle'], '.3f')} (95 % paired bootstrap "
                  f"{_f(low, '.3f')}–{_f(high, '.3f')}); expected AUC with outcomes drawn from the true PD: "
                  f"{_f(report['expected_auc'])} against the oracle's {_f(report['oracle_expected_auc'])} "
                  f"(ratio {_f(report['expected_auc_to_oracle'], '.3f')}).", ""]
    scale = metadata["scale"]
    lines += ["## Score scale", "",
              f"points = offset + factor · ln(good:bad odds); {scale['base_points']:.0f} points at odds "
              f"{scale['base_odds']:.0f}:1, {scale['pdo']:.0f} points to double the odds.", "",
              "| grade | PD up to |", "|---|---|"]
    lines += [f"| {g} | {u:.1%} |" for g, u in zip(scale["grade_names"], scale["grade_upper_pd"], strict=True)]
    lines += ["", "## Fairness (approval at grades A–C)", ""]
    for group, rows in report["fairness"].items():
        lines += [f"### {group}", "", "| group | n | approval | ratio to best | TPR gap |", "|---|---|---|---|---|"]
        lines += [f"| {r['group']} | {r['n']:.0f} | {_f(r['approval_rate'], '.3f')} | {_f(r['ratio_to_best'], '.3f')}"
                  f"{' ⚠' if r['four_fifths_flag'] else ''} | {_f(r['tpr_gap'], '.3f')} |" for r in rows]
        lines.append("")
    if report.get("group_calibration"):
        lines += ["## Calibration within groups (mean PD)", "",
                  "| dimension | group | n | predicted | realised | oracle | predicted ÷ oracle |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['dimension']} | {r['group']} | {r['n']} | {_f(r['predicted_pd'])} | {_f(r['realised_pd'])} "
                  f"| {_f(r['oracle_pd'])} | {_f(r['ratio_to_oracle'], '.3f')} |" for r in report["group_calibration"]]
        lines.append("")
    lines += ["## Use and limits", "",
              "- Reasons are TreeSHAP contributions in calibrated log-odds; town, subject type, size and "
              "industry are never named as reasons.",
              *([f"- Calibration: Platt scaling whose slope ({metadata['calibration']['slope']:.3f}) was fitted on the "
                 "validation loans (which the trees did not learn from) and whose level (intercept "
                 f"{metadata['calibration']['intercept']:+.3f}; {metadata['calibration']['validation_intercept']:+.3f} "
                 "from the validation loans alone) on all "
                 f"{metadata['calibration']['level']['loans']:,} training and validation loans "
                 f"({metadata['calibration']['level']['bad']:,} bad); the holdout is not used."]
                if "level" in metadata.get("calibration", {}) else []),
              "- Case status and 失信 flags are today's values of cases filed before the as-of date; repaired "
              "penalties are never used (信用修复管理办法).",
              "- Missing data is not evidence of risk by itself: a missing source stays missing (the trees learn where "
              "it goes, and never raise a monotone feature's risk for it), and "
              + ("each group of subject kind × file depth (thin: at most one operating source) has its own "
                 "calibration offset, fitted on the validation loans, so a thin file's mean PD is thin files' own "
                 "default rate and within it the PD follows the records it does have."
                 if metadata.get("calibration", {}).get("group_offsets") else
                 "the mean PD of each group of subject kind, size, town and file depth is shown against its "
                 "realised rate below (per-group offsets, `--group-calibration`, are not used by this version)."),
              *(["- Group offsets (log-odds): " + ", ".join(f"{g} {d:+.3f}" for g, d in
                                                             sorted(metadata["calibration"]["group_offsets"].items()))]
                if metadata.get("calibration", {}).get("group_offsets") else []),
              *(["- Electricity, revenue and headcount are also read as percentiles within the subject's kind and "
                 "size (peer tables fitted on the training loans, stored with the version)."]
                if any(key != "health" for key in metadata.get("peers") or {}) else []),
              *(["- Business health is estimated from the monthly revenue, electricity and insured headcount by a "
                 "forward (local-level Kalman) filter against the subject's peers; its seasonal offsets, peer "
                 "figures and noise variances were fitted on the training loans and are stored with the version "
                 "(noise variances q / r: " + ", ".join(
                     f"{name} {fitted['q']:.3f} / {fitted['r']:.3f}"
                     for name, fitted in metadata["peers"]["health"].get("signals", {}).items()) + ")."]
                if (metadata.get("peers") or {}).get("health") else []),
              "- A person activates a version; training never does. A version whose holdout AUC is below its "
              "baseline's or the active version's needs an override reason to be activated.", ""]
    return "\n".join(lines)
