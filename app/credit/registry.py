"""The model registry (top-level `models/`): one folder per version, checked on every load.

A version folder holds the model as LightGBM text, its metadata (features, categories, library
versions, data fingerprint, code revision, parameters, calibration, scale), metrics, a model card
and SHA256SUMS over all of them. Which version is active is not a file's business: the database
holds it (`ModelVersion.is_active`), written in the activating request's transaction.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from app.common.checksums import file_sha256

from .peers import group_offset, with_peers
from .scale import Scale

MODEL_FILE, METADATA_FILE, METRICS_FILE, CARD_FILE, SUMS_FILE = (
    "model.txt", "metadata.json", "metrics.json", "card.md", "SHA256SUMS")
CHECKED_FILES = (MODEL_FILE, METADATA_FILE, METRICS_FILE, CARD_FILE)
# LightGBM threads of a batch prediction in this process; None: the library's default (every core).
# Threads belong to the process, as OpenMP's own setting does: the app factory sets it once from
# SCORING_THREADS (1 in production, where several workers share the cores).
_predict_threads = None


def set_predict_threads(threads):
    """Use `threads` LightGBM threads for every batch prediction of this process (None: the default)."""
    global _predict_threads
    _predict_threads = int(threads) if threads not in (None, "") else None


def predict_options():
    """The keyword arguments that give `Booster.predict` this process's number of threads."""
    return {} if _predict_threads is None else {"num_threads": _predict_threads}


class RegistryError(Exception):
    """A version that may not be used, with the reason."""


def _write_json(path, data):
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def write_version(root, version, booster, metadata, metrics, card):
    """Write a new version folder; refuses to overwrite an existing one."""
    folder = Path(root) / version
    folder.mkdir(parents=True, exist_ok=False)
    booster.save_model(str(folder / MODEL_FILE))
    _write_json(folder / METADATA_FILE, metadata)
    _write_json(folder / METRICS_FILE, metrics)
    (folder / CARD_FILE).write_text(card, encoding="utf-8")
    sums = "".join(f"{file_sha256(folder / name)}  {name}\n" for name in CHECKED_FILES)
    (folder / SUMS_FILE).write_text(sums, encoding="utf-8")
    return folder


def verify_files(folder):
    """Raise RegistryError unless every file is present and matches SHA256SUMS."""
    folder = Path(folder)
    if not (folder / SUMS_FILE).exists():
        raise RegistryError(f"{folder}: SHA256SUMS is missing")
    expected = dict(reversed(line.split("  ", 1)) for line in (folder / SUMS_FILE).read_text().splitlines() if line)
    for name in CHECKED_FILES:
        if name not in expected or not (folder / name).exists():
            raise RegistryError(f"{folder}: {name} is missing")
        if file_sha256(folder / name) != expected[name]:
            raise RegistryError(f"{folder}: {name} does not match its sha256 (tampered or damaged)")


@dataclass
class ModelBundle:
    """A loaded, verified model version."""

    version: str
    folder: Path
    booster: lgb.Booster
    metadata: dict
    scale: Scale

    @property
    def features(self):
        return [f["name"] for f in self.metadata["features"]]

    def prepare(self, frame):
        """The model's inputs as a float matrix in its feature order, categories as their codes.

        LightGBM keeps the category levels it was trained with; ours are fixed in the metadata,
        so a category's code is its position there (unknown levels are missing).
        """
        frame = with_peers(frame, self.metadata.get("peers"))
        columns = []
        for spec in self.metadata["features"]:
            values = frame[spec["name"]]
            if spec["kind"] == "cat":
                codes = pd.Categorical(values, categories=spec["categories"]).codes.astype(float)
                columns.append(np.where(codes < 0, np.nan, codes))
            else:
                columns.append(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float))
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    def raw_logit(self, frame):
        """The trees' log-odds before calibration."""
        return self.booster.predict(self.prepare(frame), raw_score=True, **predict_options())

    def contributions(self, frame):
        """TreeSHAP contributions in calibrated log-odds: [rows, features + 1 (bias)]."""
        matrix = self.prepare(frame)
        return self.calibrated_contributions(self.booster.predict(matrix, pred_contrib=True, **predict_options()),
                                             matrix)

    def group_offsets(self, matrix):
        """Each prepared row's calibration offset for its subject kind and file depth (0 without offsets)."""
        offsets = self.metadata["calibration"].get("group_offsets")
        if not offsets or matrix is None:
            return 0.0
        names = self.features
        kinds = self.metadata["features"][names.index("subject_kind")]["categories"]
        codes = matrix[:, names.index("subject_kind")]
        kind = [None if np.isnan(c) else kinds[int(c)] for c in codes]
        return group_offset(offsets, kind, matrix[:, names.index("sources_present")])

    def calibrated_contributions(self, contrib, matrix=None):
        """Raw TreeSHAP contributions mapped to calibrated log-odds (Platt is linear in log-odds; a
        group's offset, when the version has them, joins the bias)."""
        slope, intercept = self.metadata["calibration"]["slope"], self.metadata["calibration"]["intercept"]
        contrib = contrib * slope
        contrib[:, -1] += intercept + self.group_offsets(matrix)
        return contrib

    def pd_from_logit(self, raw, matrix=None):
        """Calibrated probability of default from raw log-odds (Platt scaling: slope from unseen loans, level
        from every loan before the holdout; then the group offsets of the prepared rows `matrix`, when the
        version has them)."""
        calibration = self.metadata["calibration"]
        logit = calibration["slope"] * np.asarray(raw) + calibration["intercept"] + self.group_offsets(matrix)
        return 1 / (1 + np.exp(-logit))

    def predict_pd(self, frame):
        matrix = self.prepare(frame)
        return self.pd_from_logit(self.booster.predict(matrix, raw_score=True, **predict_options()), matrix)


def load_version(folder, expected_features=None):
    """Load a version folder after checking its files, features and LightGBM major version."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RegistryError(f"no model version at {folder}")
    verify_files(folder)
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    trained_major = str(metadata["libraries"]["lightgbm"]).split(".")[0]
    if trained_major != lgb.__version__.split(".")[0]:
        raise RegistryError(f"{folder.name}: trained with LightGBM {metadata['libraries']['lightgbm']}, "
                            f"installed {lgb.__version__} (major versions differ)")
    names = [f["name"] for f in metadata["features"]]
    if expected_features is not None and list(expected_features) != names:
        missing = sorted(set(expected_features) ^ set(names))
        raise RegistryError(f"{folder.name}: feature list does not match this code ({', '.join(missing) or 'order'})")
    booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
    if booster.feature_name() != names:
        raise RegistryError(f"{folder.name}: the model file's features differ from its metadata")
    return ModelBundle(folder.name, folder, booster, metadata, Scale.from_dict(metadata["scale"]))


def versions(root):
    """Version folders in the registry, oldest first."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / METADATA_FILE).exists())
