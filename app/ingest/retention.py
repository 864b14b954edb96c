"""How long received files are kept: uploaded originals (full ID numbers and all) and reject reports
are removed once past the retention period; their batches keep checksum, counts and reasons, and
say when the files were removed (docs/ingestion.md)."""
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import or_, select

from app.entities import SourceBatch
from app.entities.base import utcnow

log = logging.getLogger(__name__)


@dataclass
class Purge:
    """What one purge removed; `as_json()` is the command's last line."""

    retention_days: int
    removed_before: str
    upload_folders: int = 0
    reject_files: int = 0
    batches: int = 0
    failures: int = 0

    def as_json(self):
        """The figures as a JSON-ready dict."""
        return asdict(self)


def upload_folder(path, upload_dir):
    """The folder of one upload (the first folder under `upload_dir`) holding `path`, or None when
    `path` is not an upload's."""
    if not path or not upload_dir:
        return None
    root = Path(upload_dir).resolve()
    resolved = Path(path).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        return None
    return root / resolved.relative_to(root).parts[0]


def purge(session, upload_dir, reject_dir, retention_days, now=None):
    """Remove what was received more than `retention_days` ago and mark the batches it belonged to.

    Batches first (their files, by the batch's received time), then anything else in the folders
    older than that by its modification time (uploads refused or already loaded, reports whose batch
    is gone). Running it again removes nothing more. The caller commits.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    result = Purge(retention_days, cutoff.isoformat(timespec="seconds"))
    query = select(SourceBatch).where(SourceBatch.received_at < cutoff, SourceBatch.files_removed_at.is_(None),
                                      or_(SourceBatch.kept_file.is_not(None), SourceBatch.reject_file.is_not(None)))
    for batch in session.scalars(query):
        _remove_tree(upload_folder(batch.kept_file, upload_dir), result, "upload_folders")
        _remove_file(_inside(batch.reject_file, reject_dir), result, "reject_files")
        batch.files_removed_at = now
        result.batches += 1
    session.flush()
    oldest_kept = cutoff.replace(tzinfo=UTC).timestamp()  # stored times are naive UTC
    for folder in _children(upload_dir):
        if folder.is_dir() and _newest_change(folder) < oldest_kept:
            _remove_tree(folder, result, "upload_folders")
    for report in _children(reject_dir):
        if report.is_file() and report.stat().st_mtime < oldest_kept:
            _remove_file(report, result, "reject_files")
    return result


def _inside(path, folder):
    """`path` resolved, when it lies inside `folder`; else None (nothing outside is ever removed)."""
    if not path or not folder:
        return None
    resolved = Path(path).resolve()
    return resolved if resolved.is_relative_to(Path(folder).resolve()) else None


def _children(folder):
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(Path(folder).iterdir())


def _newest_change(folder):
    """The latest modification time of `folder` and everything in it (a POSIX timestamp)."""
    newest = folder.stat().st_mtime
    for parent, names, files in os.walk(folder):
        for name in (*names, *files):
            newest = max(newest, (Path(parent) / name).lstat().st_mtime)
    return newest


def _remove_tree(folder, result, counter):
    if folder is None or not folder.exists():
        return
    try:
        shutil.rmtree(folder)
    except OSError:
        log.exception("could not remove %s", folder)
        result.failures += 1
        return
    setattr(result, counter, getattr(result, counter) + 1)


def _remove_file(path, result, counter):
    if path is None or not path.exists():
        return
    try:
        path.unlink()
    except OSError:
        log.exception("could not remove %s", path)
        result.failures += 1
        return
    setattr(result, counter, getattr(result, counter) + 1)
