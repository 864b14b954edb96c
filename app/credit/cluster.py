"""The Dask path: the one feature module run per partition of subjects, read from a Parquet snapshot.

Nothing here computes a feature or a score: each partition holds a contiguous range of subject ids,
reads only those subjects' records from the snapshot (`snapshot.read_records`) and hands them to
`features.build_features` and `scoring.score_features`, exactly as the single-machine path does for
a chunk. So whatever features the module declares flow through unchanged, and the two paths give
the same frames. A `LocalCluster` stands in when no scheduler address is given.
"""
import functools
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.entities.base import bulk_insert

from .features import COMPLETENESS_SOURCES, build_features
from .snapshot import read_records

SUBJECTS_PER_PARTITION = 20_000  # ~1–1.5 GB of working memory per partition on a 36-month district
POSITION = "_position"


@contextmanager
def dask_client(address=None, workers=1, memory_limit="6GiB", processes=True):
    """A distributed Client on the scheduler at `address`, or on a LocalCluster of `workers` workers
    (one thread each: the feature code and LightGBM are not shared across threads here), each held to
    `memory_limit` when it is a process of its own."""
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    # A worker in threads of this process would measure this whole process against its limit (a web worker's
    # or a test run's memory, not its own) and pause for good once that passed 80 % of it: no limit there.
    limit = memory_limit if processes else 0
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, memory_limit=limit,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def partitioned(frame, by, size=SUBJECTS_PER_PARTITION):
    """A dask DataFrame of `frame` indexed by the subject id column `by`, a partition for each range of
    `size` consecutive subject ids that holds rows (a subject's rows never straddle two partitions);
    the original row order is kept in POSITION.

    A partition reads every record of its range, so the range, not the number of subjects in it,
    bounds a worker's memory: the loans of training belong to a third of the subjects, and cutting
    them by count gave partitions that read three times the records of a refresh's.
    """
    import dask.dataframe as dd

    frame = frame.assign(**{POSITION: np.arange(len(frame))}).set_index(by).sort_index()
    subjects = frame.index.unique().to_numpy(dtype=np.int64)
    first = int(subjects[0])
    starts = first + np.unique((subjects - first) // size) * size
    divisions = sorted({*(int(s) for s in starts), int(subjects[-1])})
    return dd.from_pandas(frame, sort=True).repartition(divisions=divisions)


def _frames_of(part, folder, penalties):
    if not len(part):
        return {}
    return read_records(folder, (int(part.index.min()), int(part.index.max())), penalties=penalties)


def partition_features(part, folder, towns, context=False, penalties=None):
    """Features of one partition's targets (`subject_code`, `as_of`, the loan when given), indexed by
    their position in the whole target list."""
    targets = part.reset_index(drop=True).drop(columns=[POSITION])
    features = build_features(_frames_of(part, folder, penalties), targets, towns, context=context)
    features.index = pd.Index(part[POSITION].to_numpy(), name=POSITION)
    return features


def feature_meta(towns, context=False):
    """An empty feature frame with the module's columns and dtypes (what each partition returns)."""
    targets = pd.DataFrame({"subject_code": ["-"], "as_of": [pd.Timestamp("2000-01-01")]})
    meta = build_features({}, targets, towns, context=context).iloc[:0]
    meta.index = pd.Index([], dtype=np.int64, name=POSITION)
    return meta


def features_frame(folder, targets, subject_ids, towns, context=False, penalties=None,
                   size=SUBJECTS_PER_PARTITION):
    """A dask DataFrame of the features of `targets` (whose subjects' ids are `subject_ids`), built
    partition by partition of subjects from the snapshot at `folder`; index: the target's position."""
    frame = targets.assign(_subject_id=np.asarray(subject_ids, dtype=np.int64))
    parts = partitioned(frame, "_subject_id", size)
    return parts.map_partitions(partition_features, str(folder), towns, context, penalties,
                                meta=feature_meta(towns, context))


def compute_features(folder, targets, subject_ids, towns, context=False, penalties=None,
                     size=SUBJECTS_PER_PARTITION):
    """The features of `targets` gathered in their order (as build_features returns them)."""
    frame = features_frame(folder, targets, subject_ids, towns, context, penalties, size).compute()
    return frame.sort_index().reset_index(drop=True)


@functools.lru_cache(maxsize=4)
def _scorer(model_folder, stamp):
    from .features import MODEL_INPUTS
    from .registry import load_version
    from .scoring import Scorer

    return Scorer(load_version(Path(model_folder), MODEL_INPUTS))


def model_stamp(model_folder):
    """What identifies a model folder's state (the workers load it once per state)."""
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(Path(model_folder).iterdir())
                 if p.is_file())


SCORE_COLUMNS = ["subject_id", "pd", "score", "grade", "reasons", "contributions", "completeness"]


def partition_scores(part, folder, model_folder, stamp, as_of, towns, penalties=None):
    """Scores of one partition's subjects (index: subject id; column `code`) as rows to store, the
    JSON columns as text."""
    from .scoring import score_features

    if not len(part):
        return pd.DataFrame(columns=SCORE_COLUMNS)
    frames = _frames_of(part, folder, penalties)
    targets = pd.DataFrame({"subject_code": part["code"].to_numpy(), "as_of": pd.Timestamp(as_of)})
    features = build_features(frames, targets, towns, context=True)
    # The distinct codes first: iterating a partition's million Arrow-backed cells one by one cost a
    # sixth of its scoring time.
    present = {name: set(frames[name]["subject_code"].unique().tolist()) for name in COMPLETENESS_SOURCES
               if name in frames}
    subjects = pd.DataFrame({"id": part.index.to_numpy(), "code": part["code"].to_numpy()})
    rows = score_features(_scorer(str(model_folder), stamp), features, subjects, present)
    frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    for name in ("reasons", "contributions", "completeness"):
        frame[name] = [json.dumps(value, ensure_ascii=False) for value in frame[name]]
    return frame


def score_partitions(folder, subjects, model_folder, as_of, towns, penalties=None, size=SUBJECTS_PER_PARTITION):
    """The dask partitions of the subjects' scores (`subjects`: DataFrame of id, code)."""
    parts = partitioned(subjects[["id", "code"]].drop_duplicates("id"), "id", size)
    meta = pd.DataFrame({"subject_id": pd.Series(dtype=np.int64), "pd": pd.Series(dtype=float),
                         "score": pd.Series(dtype=np.int64), "grade": pd.Series(dtype=object),
                         "reasons": pd.Series(dtype=object), "contributions": pd.Series(dtype=object),
                         "completeness": pd.Series(dtype=object)})
    scored = parts.drop(columns=[POSITION]).map_partitions(
        partition_scores, str(folder), str(model_folder), model_stamp(model_folder), as_of, towns, penalties,
        meta=meta)
    return scored.to_delayed()


@dataclass(frozen=True)
class DaskEngine:
    """Where and how the Dask path runs: the snapshot it reads, the scheduler (a LocalCluster of
    `workers` when none), each local worker's memory limit, and subjects per partition."""

    snapshot: str
    scheduler: str | None = None
    workers: int = 1
    memory_limit: str = "6GiB"
    processes: bool = True
    partition_size: int = SUBJECTS_PER_PARTITION
    update: bool = True  # bring the snapshot up to date from the database first


def computed(client, parts):
    """Each partition's result as it is ready (on the client's cluster; in turn without one)."""
    if client is None:
        for part in parts:
            yield part.compute()
        return
    from distributed import as_completed

    for future in as_completed(client.compute(parts)):
        yield future.result()
        future.release()


def store_scores(session, frame, extra):
    """Insert a partition's score rows in bulk: COPY on PostgreSQL, executemany on SQLite.

    `extra` (model_version_id, data_as_of, computed_at) is the same for every row.
    """
    if not len(frame):
        return 0
    names = [*SCORE_COLUMNS, "model_version_id", "data_as_of", "computed_at"]
    rows = [(int(r[0]), float(r[1]), int(r[2]), str(r[3]), r[4], r[5], r[6], *extra)
            for r in frame[SCORE_COLUMNS].itertuples(index=False, name=None)]
    bulk_insert(session, "credit_score", names, rows)
    return len(rows)


def refresh_scores_on_dask(session, bundle, towns, engine, as_of=None, on_chunk=None, penalties=None):
    """Score every subject on Dask and insert one CreditScore row each; returns the count.

    The snapshot at `engine.snapshot` is first brought up to date (only the batches loaded since);
    each partition of subjects is scored on a worker from it, and its rows are written as they
    arrive, `on_chunk(scored, total)` after each (a run commits its progress there).
    """
    from sqlalchemy import select

    from app.entities import CreditSubject
    from app.entities.base import utcnow

    from .scoring import data_as_of, model_version_row
    from .snapshot import write_snapshot

    if engine.update:
        write_snapshot(session, engine.snapshot)
    as_of = as_of or data_as_of(session)
    version = model_version_row(session, bundle)
    rows = session.execute(select(CreditSubject.id, CreditSubject.uscc, CreditSubject.household_id)
                           .order_by(CreditSubject.id)).all()
    subjects = pd.DataFrame({"id": [r[0] for r in rows], "code": [r[1] or r[2] for r in rows]})
    if not len(subjects):
        return 0
    parts = score_partitions(engine.snapshot, subjects, bundle.folder, as_of, towns, penalties,
                             engine.partition_size)
    scored = 0
    with dask_client(engine.scheduler, engine.workers, engine.memory_limit, engine.processes) as client:
        for frame in computed(client, parts):
            scored += store_scores(session, frame, (version.id, as_of, utcnow()))
            if on_chunk is not None:
                on_chunk(scored, len(subjects))
    return scored
