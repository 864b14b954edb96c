"""Model versions: which one is active (the database says), loading them checked, scoring with them."""
import json
import threading
import time
from pathlib import Path

from sqlalchemy import select

from app.common.region import town_codes
from app.credit import cluster, registry, snapshot
from app.credit.features import MODEL_INPUTS
from app.credit.scoring import Scorer, refresh_scores
from app.entities import ModelVersion

from .publicity import publicity_rules

_SCORERS = {}
_SCORERS_LOCK = threading.Lock()


def active_version(session):
    """The name of the active model version, or None: the one home of that fact is the database."""
    return session.scalar(select(ModelVersion.version).where(ModelVersion.is_active))


def headline_metrics(folder):
    """The headline figures of a version's evaluation report (its metrics.json, no tables)."""
    report = json.loads((Path(folder) / registry.METRICS_FILE).read_text(encoding="utf-8"))
    return {k: v for k, v in report.items() if not isinstance(v, (list, dict))}


def scorer(root, version):
    """A Scorer of `version` in the registry `root`, loaded with every registry check.

    Loaded once per state of the version's files: a changed file is checked (and refused) again.
    """
    folder = Path(root) / version
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                  for p in sorted(folder.iterdir()) if p.is_file()) if folder.is_dir() else ()
    key = (str(folder.resolve()), stamp)
    with _SCORERS_LOCK:
        found = _SCORERS.get(key)
    if found is None:
        found = Scorer(registry.load_version(folder, MODEL_INPUTS))
        with _SCORERS_LOCK:
            if len(_SCORERS) >= 8:
                _SCORERS.clear()
            _SCORERS[key] = found
    return found


def active_scorer(session, root):
    """A Scorer of the active version; RegistryError when none is active or it fails a check."""
    version = active_version(session)
    if version is None:
        raise registry.RegistryError(f"no active model version (registry {root})")
    return scorer(root, version)


def refresh(session, root, region_code, subject_ids=None, on_chunk=None, engine=None):
    """Score subjects with the active model and stage their rows; returns the figures.

    The scoring step of a run (`scoring_runs.execute`); flows start a run rather than call this.
    `engine` (a cluster.DaskEngine) scores everyone on Dask from a Parquet snapshot instead.
    """
    started = time.perf_counter()
    bundle = active_scorer(session, root).bundle
    if engine is not None:
        scored = cluster.refresh_scores_on_dask(session, bundle, town_codes(region_code), engine,
                                                on_chunk=on_chunk, penalties=publicity_rules())
        fingerprint = snapshot.fingerprint(engine.snapshot)
    else:
        fingerprint = snapshot.database_fingerprint(session)
        scored = refresh_scores(session, bundle, town_codes(region_code), subject_ids, on_chunk=on_chunk,
                                penalties=publicity_rules())
    return {"model_version": bundle.version, "scored": scored, "seconds": round(time.perf_counter() - started, 2),
            "data_fingerprint": fingerprint}
