"""The fitted model on disk: LightGBM text or a scorecard JSON, never a pickle, beside a metadata JSON."""
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn

from app.common.checksums import file_sha256

from .models import BLEND, LOGISTIC, TUNED
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


def _write_model(folder, chosen, model):
    if chosen == BLEND:  # both parts, each in its own format, and a small JSON naming them
        tuned, card = model.models
        _write_model(folder, TUNED, tuned)
        _write_model(folder, LOGISTIC, card)
        path = folder / "blend.json"
        parts = {"parts": [{"file": name, "sha256": file_sha256(folder / name)}
                           for name in ("model.txt", "scorecard.json")], "combine": "mean of probabilities"}
        path.write_text(json.dumps(parts, indent=1), encoding="utf-8")
        return path, "blend"
    if chosen == LOGISTIC:
        path = folder / "scorecard.json"
        path.write_text(json.dumps(model.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path, "logistic_scorecard"
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
    if metadata["model_kind"] == "lightgbm":
        return lgb.Booster(model_file=str(path)), metadata
    if metadata["model_kind"] == "blend":
        parts = json.loads(path.read_text(encoding="utf-8"))["parts"]
        for part in parts:
            if file_sha256(folder / part["file"]) != part["sha256"]:
                raise ArtifactError(f"{part['file']} does not match the sha256 in {path.name}")
        card = BinnedLogisticScorecard.from_dict(json.loads((folder / "scorecard.json").read_text(encoding="utf-8")))
        return (lgb.Booster(model_file=str(folder / "model.txt")), card), metadata
    return BinnedLogisticScorecard.from_dict(json.loads(path.read_text(encoding="utf-8"))), metadata


def score_rows(frame, model, metadata):
    """Probability of bad for each row of `frame` (cells as exported text), parsed as in training."""
    parsed = pd.DataFrame({f["name"]: parse_values(frame[f["name"]], f) for f in metadata["features"]})
    if isinstance(model, tuple):  # a blend: the mean of the trees' and the scorecard's probabilities
        booster, card = model
        return (booster.predict(parsed) + card.predict_proba(parsed)[:, 1]) / 2
    if isinstance(model, lgb.Booster):
        return model.predict(parsed)
    return model.predict_proba(parsed)[:, 1]
