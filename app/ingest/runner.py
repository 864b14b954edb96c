"""Ingesting a set of files as one run: ordered by source, one transaction per file.

This is a command-level function (like a request): it commits after each file, so that a file
is loaded whole or not at all, and a failing file leaves the others loaded.
"""
import logging
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.entities.base import refresh_statistics

from .loading import FileResult, LoadContext, load_file
from .registration import subject_index
from .sources import SOURCES, source_for_file

log = logging.getLogger(__name__)
_ORDER = {source.name: position for position, source in enumerate(SOURCES)}
COUNTS = ("rows_read", "inserted", "updated", "unchanged", "stale", "duplicates", "rejected", "warnings")


def export_files(folder):
    """The export files under `folder`, skipping `_truth/` and hidden or underscore folders."""
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return [p for p in folder.rglob("*") if p.is_file()
            and not any(part.startswith(("_", ".")) for part in p.relative_to(folder).parts)]


def ordered(paths):
    """Registration first (it creates the subjects), then the registry's order, then by name."""
    def key(path):
        source = source_for_file(path.name)
        return (_ORDER.get(source.name, len(_ORDER)) if source else len(_ORDER), path.name)

    return sorted(paths, key=key)


def ingest_paths(session, paths, towns, uploaded_by_id=None, on_file=None):
    """Load every path, committing per file; returns the run's summary (JSON-ready).

    `on_file(done, total)` is called after each file is committed (a background run reports progress there).
    """
    reject_dir = Path(current_app.config["REJECT_DIR"])
    context = LoadContext(towns=frozenset(towns), subjects=subject_index(session), reject_dir=reject_dir,
                          uploaded_by_id=uploaded_by_id, upload_dir=current_app.config.get("UPLOAD_DIR"),
                          id_key=current_app.config.get("ID_HASH_KEY"))
    results = []
    paths = ordered(paths)
    for path in paths:
        results.append(_load_one(session, path, context))
        if on_file is not None:
            on_file(len(results), len(paths))
    summary = summarise(results)
    if summary["totals"]["inserted"] + summary["totals"]["updated"]:
        refresh_statistics(session, "source_record", "source_batch", "credit_subject")
        session.commit()
    return summary


def _load_one(session, path, context, attempts=2):
    """Load and commit one file. A unique index refusing the write means another load stored the same
    file or rows first: rolled back, the file is loaded again against what that load stored."""
    for attempt in range(1, attempts + 1):
        try:
            result = load_file(session, path, context)
            session.commit()
            return result
        except IntegrityError as error:
            session.rollback()
            context.subjects = subject_index(session)
            if attempt == attempts:
                return _failed(path, error)
            log.warning("ingest of %s met a concurrent load; trying again", path)
        except Exception as error:  # one broken file must not stop the run, nor leave half a batch
            session.rollback()
            log.exception("ingest of %s failed", path)
            context.subjects = subject_index(session)
            return _failed(path, error)


def _failed(path, error):
    return FileResult(Path(path).name, None, "failed", message=f"载入失败，已整体回滚：{error}",
                      message_en=f"loading failed and was rolled back: {error}")


def summarise(results):
    """Per-source and total figures of a run, with each file's result."""
    sources = {}
    for result in results:
        if result.source is None:
            continue
        figures = sources.setdefault(result.source, {name: 0 for name in COUNTS} | {"reject_files": []})
        for name in COUNTS:
            figures[name] += getattr(result, name)
        if result.reject_file:
            figures["reject_files"].append(result.reject_file)
    totals = {name: sum(getattr(r, name) for r in results) for name in COUNTS}
    accepted = totals["inserted"] + totals["updated"] + totals["unchanged"]
    return {"ok": accepted > 0, "totals": totals, "sources": sources,
            "files": [r.as_json() for r in results]}
