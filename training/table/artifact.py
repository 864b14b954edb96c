"""The fitted model on disk: LightGBM text or a logistic model's JSON, never a pickle, beside a metadata JSON."""
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn

from app.common.checksums import file_sha256

from .linear import PlainLogistic
from .models import BLEND, BLEND_PARTS, LOGISTIC, PLAIN, Blend
from .parsing import parse_values
from .scorecard import BinnedLogisticScorecard

FORMAT = "yintai-train-table/1"
METADATA = "metadata.json"


class ArtifactError(Exception):
    """A saved model that does not match its metadata."""


def library_versions():
    """Versions of everything that shapes the model file."""
    return {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__, "lightgbm": lgb.__version__}


class BoosterProbability:
    """A saved LightGBM booster scored like the fitted classifiers: `predict_proba` with two columns."""

    def __init__(self, booster):
        self.booster = booster

    def predict_proba(self, X):
        """Probability of each class, good then bad."""
        bad = self.booster.predict(X)
        return np.column_stack([1.0 - bad, bad])


def _write_model(folder, chosen, model):
    if chosen == BLEND:  # every part in its own format, and a small JSON naming them and their weights
        parts = []
        for (name, weight), part in zip(BLEND_PARTS, model.models, strict=True):
            path, _ = _write_model(folder, name, part)
            parts.append({"candidate": name, "file": path.name, "sha256": file_sha256(path), "weight": weight})
        path = folder / "blend.json"
        path.write_text(json.dumps({"parts": parts, "combine": "weighted mean of probabilities"}, indent=1),
                        encoding="utf-8")
        return path, "blend"
    if chosen in (LOGISTIC, PLAIN):
        path = folder / ("scorecard.json" if chosen == LOGISTIC else "logistic.json")
        path.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path, chosen
    booster = model.model_.booster_ if hasattr(model, "model_") else model.booster_
    path = folder / "model.txt"
    booster.save_model(str(path))
    return path, "lightgbm"


def save_model(folder, candidates, specs, features, summary, source):
    """Write the chosen model and `metadata.json` into `folder`; returns the metadata written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path, kind = _write_model(folder, candidates.chosen, candidates.model)
    metadata = {
        "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_file": path.name, "model_kind": kind, "chosen": candidates.chosen, "sha256": file_sha256(path),
        "features": [{"name": name, **specs[name]} for name in features],
        "validation_auc": {k: round(v, 4) for k, v in candidates.validation_auc.items()},
        "versions": library_versions(), "data": {"file": Path(source).name, "sha256": file_sha256(source)},
        **summary,
    }
    (folder / METADATA).write_text(json.dumps(metadata, ensure_ascii=False, indent=1, default=float), encoding="utf-8")
    return metadata


def load_model(folder):
    """The saved model and its metadata, after checking the file's sha256 and the format."""
    folder = Path(folder)
    metadata = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    if metadata.get("format") != FORMAT:
        raise ArtifactError(f"unknown model format {metadata.get('format')!r}")
    path = folder / metadata["model_file"]
    if file_sha256(path) != metadata["sha256"]:
        raise ArtifactError(f"{path.name} does not match the sha256 in {METADATA}")
    if metadata["model_kind"] != "blend":
        return _read_part(path, metadata["model_kind"]), metadata
    parts = json.loads(path.read_text(encoding="utf-8"))["parts"]
    for part in parts:
        if file_sha256(folder / part["file"]) != part["sha256"]:
            raise ArtifactError(f"{part['file']} does not match the sha256 in {path.name}")
    # a blend saved before the plain logistic existed names no candidates and weighs its two parts equally
    kinds = [part.get("candidate", LOGISTIC if part["file"] == "scorecard.json" else "lightgbm") for part in parts]
    models = [_read_part(folder / part["file"], kind) for part, kind in zip(parts, kinds, strict=True)]
    models = [BoosterProbability(model) if isinstance(model, lgb.Booster) else model for model in models]
    return Blend(models, [part.get("weight", 1 / len(parts)) for part in parts]), metadata


def _read_part(path, kind):
    """One saved model: a LightGBM booster, or a logistic model rebuilt from its JSON."""
    if kind == LOGISTIC:
        return BinnedLogisticScorecard.from_dict(json.loads(path.read_text(encoding="utf-8")))
    if kind == PLAIN:
        return PlainLogistic.from_dict(json.loads(path.read_text(encoding="utf-8")))
    return lgb.Booster(model_file=str(path))


def score_rows(frame, model, metadata):
    """Probability of bad for each row of `frame` (cells as exported text), parsed as in training."""
    parsed = pd.DataFrame({f["name"]: parse_values(frame[f["name"]], f) for f in metadata["features"]})
    if isinstance(model, lgb.Booster):
        return model.predict(parsed)
    return model.predict_proba(parsed)[:, 1]
