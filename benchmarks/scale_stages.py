"""The stages of `benchmarks.scale`, each run in a child process of its own so that it is measured alone.

`python -m benchmarks.scale_stages export-snapshot DISTRICT SNAPSHOT DATABASE [PROCESSES]`
`python -m benchmarks.scale_stages features SNAPSHOT DATABASE pandas|dask WORKERS MEMORY PARTITION`
`python -m benchmarks.scale_stages refresh SNAPSHOT DATABASE MODEL_FOLDER pandas|dask WORKERS MEMORY update|keep
PARTITION`
Each prints its figures as one JSON object on its last line.
"""
import json
import sys
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select, update

from app import create_app
from app.common.region import town_codes
from app.credit import cluster, snapshot
from app.credit.features import build_features
from app.entities import CreditSubject, ModelVersion
from app.extensions import db
from app.ingest.registration import subject_index

REGION = "610203"
TOWNS = town_codes(REGION)


def _app(database, registry=None):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "MODEL_REGISTRY": registry,
                       "REGION_CODE": REGION})


def export_snapshot(folder, out, database, processes="1"):
    """The exports as a snapshot, the subjects numbered as the database numbers them, `processes`
    files at a time."""
    with _app(database).app_context():
        ids = subject_index(db.session)
    return snapshot.write_export_snapshot(folder, out, TOWNS, subject_ids=ids, processes=int(processes))


def _subjects():
    rows = db.session.execute(select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id)
                              .order_by(CreditSubject.id)).all()
    return pd.DataFrame({"id": [r[0] for r in rows], "code": [r[1] or r[2] for r in rows]})


def features(snap, database, engine, workers, memory, partition):
    """Every subject's features as of the snapshot's data date, gathered in this process."""
    with _app(database).app_context():
        subjects = _subjects()
    targets = pd.DataFrame({"subject_code": subjects["code"], "as_of": pd.Timestamp(snapshot.data_as_of(snap))})
    if engine == "pandas":
        frame = build_features(snapshot.read_records(snap), targets, TOWNS, context=True)
    else:
        with cluster.dask_client(None, int(workers), memory):
            frame = cluster.compute_features(snap, targets, subjects["id"], TOWNS, context=True, size=int(partition))
    return {"rows": len(frame), "columns": frame.shape[1], "missing_share": round(float(frame.isna().mean().mean()), 4)}


def refresh(snap, database, model_folder, engine, workers, memory, mode, partition):
    """Score everyone with the given version (made the active one directly: no activation run)."""
    from app.credit.registry import load_version
    from app.credit.scoring import model_version_row
    from app.services import scoring_runs

    model_folder = Path(model_folder)
    app = _app(database, str(model_folder.parent))
    with app.app_context():
        bundle = load_version(model_folder, tuple(s["name"] for s in json.loads(
            (model_folder / "metadata.json").read_text(encoding="utf-8"))["features"]))
        row = model_version_row(db.session, bundle)
        db.session.execute(update(ModelVersion).values(is_active=False))
        row.is_active = True
        db.session.commit()
        if mode == "keep":  # an export snapshot: scored as of its own data date, the database not read
            from app.services.publicity import publicity_rules

            dask_engine = cluster.DaskEngine(str(snap), None, int(workers), memory, update=False,
                                             partition_size=int(partition))
            started = time.perf_counter()
            scored = cluster.refresh_scores_on_dask(db.session, bundle, TOWNS, dask_engine,
                                                    as_of=snapshot.data_as_of(snap), penalties=publicity_rules(),
                                                    on_chunk=_progress(started))
            db.session.commit()
            return {"scored": scored, "seconds": round(time.perf_counter() - started, 1)}
        run = scoring_runs.start(db.session, "cli")
        db.session.commit()
        dask_engine = (cluster.DaskEngine(str(snap), None, int(workers), memory, partition_size=int(partition))
                       if engine == "dask" else None)
        run = scoring_runs.execute(db.session, run, str(model_folder.parent), REGION, engine=dask_engine)
        return scoring_runs.figures(run)


def _progress(started):
    """After each partition: commit its rows (as a scoring run does) and say how far the refresh is."""
    def report(scored, total):
        db.session.commit()
        print(f"scored {scored}/{total} at {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    return report


STAGES = {"export-snapshot": export_snapshot, "features": features, "refresh": refresh}

if __name__ == "__main__":
    print(json.dumps(STAGES[sys.argv[1]](*sys.argv[2:]), default=str))
