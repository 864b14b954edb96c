"""Backup and restore of a deployment: the database, the model registry and the platform's files in one archive.

An archive is a gzipped tar holding `manifest.json`, the database (PostgreSQL: a `pg_dump` custom-format
dump taken in one snapshot; SQLite: a copy made with SQLite's online backup API, safe while the platform
writes) and every file of the folders it is given: the model registry (`models/…`), the uploads
(`uploads/…`) and the ingestion's reject reports (`rejects/…`). The manifest records when, which
database kind and Alembic revision, the rows of every table (counted in the same snapshot as the dump)
and the sha256 of every file. How each database is copied: app/services/dumps.py.

A restore checks everything before it changes anything: the sha256 of every file, that the archive's
revision is one this code knows (an archive of newer code is refused), that the database kind matches,
and that the target holds no data (unless forced). The database is then replaced in one transaction
(PostgreSQL: `psql --single-transaction`; SQLite: the backup API, which swaps the whole file's pages),
the files are written, and the rows of every table are counted again against the manifest.
"""
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask_babel import lazy_gettext as _l

from app.common.checksums import file_sha256

from . import dumps
from .dumps import BackupError

FORMAT = "yintai-backup/1"
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database/yintai.dump", "sqlite": "database/yintai.sqlite3"}
def create(engine, folders, out_dir, say=lambda text: None):
    """Write an archive of the database and `folders` ({"models": path, "uploads": path, …}) into `out_dir`,
    telling `say` (a lazy text) what it is doing.

    Returns the summary (archive path, size, sha256, database kind, revision, rows, files, seconds).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="backup-", dir=out_dir) as work:
        work = Path(work)
        database_file = work / DATABASE_FILES[kind]
        database_file.parent.mkdir(parents=True)
        say(_l("正在备份数据库…"))
        copy = dumps.dump_postgresql if kind == "postgresql" else dumps.copy_sqlite
        database = copy(engine, database_file)
        files = {DATABASE_FILES[kind]: database_file}
        for name, folder in folders.items():
            files.update(_folder_files(name, folder))
        say(_l("正在计算校验和…"))
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": {"kind": kind, "file": DATABASE_FILES[kind], **database["about"]},
                    "alembic_revision": database["alembic_revision"], "row_counts": database["row_counts"],
                    "folders": {name: str(folder) for name, folder in folders.items() if folder},
                    "files": {name: file_sha256(path) for name, path in sorted(files.items())}}
        archive = _write_archive(out_dir, kind, manifest, files)
    return {"archive": str(archive), "bytes": archive.stat().st_size, "sha256": file_sha256(archive),
            "database": kind, "alembic_revision": manifest["alembic_revision"],
            "tables": len(manifest["row_counts"]), "rows": sum(manifest["row_counts"].values()),
            "files": _files_per_folder(manifest["files"]), "seconds": round(time.perf_counter() - started, 2)}


def restore(engine, archive, folders, migrations_dir, work_dir, force=False, say=lambda text: None):
    """Restore `archive` into the database of `engine` and into `folders`; refuses before changing anything
    when a check fails (see the module doc). Returns the summary of what was restored."""
    started = time.perf_counter()
    kind = engine.dialect.name
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="restore-", dir=work_dir) as work:
        work = Path(work)
        say(_l("正在校验备份文件…"))
        manifest = _unpack(Path(archive), work)
        revision = _check_revision(manifest, migrations_dir)
        if manifest["database"]["kind"] != kind:
            raise BackupError(_l("该备份来自 %(source)s 数据库，不能恢复到 %(target)s 数据库。"),
                              source=manifest["database"]["kind"], target=kind)
        placed = _placements(manifest, folders)
        _check_target_empty(engine, placed, manifest["files"], force)
        say(_l("正在恢复数据库…"))
        source = work / manifest["database"]["file"]
        (dumps.restore_postgresql if kind == "postgresql" else dumps.restore_sqlite)(engine, source)
        for name, target in placed.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / name, target)
    counts = dumps.count_rows(engine)
    if counts != manifest["row_counts"]:
        raise BackupError(_l("恢复后的行数与备份清单不一致：%(tables)s。"),
                          tables=", ".join(t for t in sorted(set(counts) | set(manifest["row_counts"]))
                                           if counts.get(t) != manifest["row_counts"].get(t)))
    return {"archive": str(archive), "database": kind, "created_at": manifest["created_at"], **revision,
            "tables": counts, "rows": sum(counts.values()), "files": _files_per_folder(manifest["files"]),
            "checksums_verified": len(manifest["files"]), "seconds": round(time.perf_counter() - started, 2)}


def _script(migrations_dir):
    """The code's Alembic migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir))
    return ScriptDirectory.from_config(config)


def _check_revision(manifest, migrations_dir):
    """{"alembic_revision", "code_revision", "upgrade_needed"}; refuses an archive of a revision this code
    does not know (made by newer code)."""
    script = _script(migrations_dir)
    heads = sorted(script.get_heads())
    archived = manifest["alembic_revision"].split(",")
    for revision in archived:
        try:
            known = script.get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(_l("备份的数据库版本 %(rev)s 比本程序新（本程序的最新版本是 %(head)s），"
                                 "请用与备份同一或更新版本的程序恢复。"), rev=revision, head=",".join(heads))
    return {"alembic_revision": manifest["alembic_revision"], "code_revision": ",".join(heads),
            "upgrade_needed": sorted(archived) != heads}


def _folder_files(name, folder):
    """{"<name>/<relative path>": path} of every regular file under `folder` (none when it is unset or absent)."""
    if not folder or not Path(folder).is_dir():
        return {}
    root = Path(folder)
    return {f"{name}/{path.relative_to(root).as_posix()}": path
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}


def _files_per_folder(files):
    """How many files of the archive belong to each folder (models, uploads, rejects)."""
    counts = {}
    for name in files:
        top = name.split("/", 1)[0]
        if top != "database":
            counts[top] = counts.get(top, 0) + 1
    return counts


def _write_archive(out_dir, kind, manifest, files):
    """Write the archive next to its final name and move it there only once it is complete."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    archive = out_dir / f"yintai-backup-{stamp}-{kind}.tar.gz"
    number = 1
    while archive.exists():
        number += 1
        archive = out_dir / f"yintai-backup-{stamp}-{kind}-{number}.tar.gz"
    partial = archive.with_name(archive.name + ".partial")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(time.time())
            tar.addfile(info, io.BytesIO(body))
            for name, path in sorted(files.items()):
                tar.add(path, arcname=name, recursive=False)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return archive


def _unpack(archive, work):
    """Extract the archive into `work` and return its manifest, once every file's sha256 matches it."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            names = {m.name for m in members if m.isfile()}
            if MANIFEST not in names or any(not (m.isfile() or m.isdir()) for m in members):
                raise BackupError(_l("%(name)s 不是本平台的备份文件。"), name=archive.name)
            tar.extractall(work, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(_l("无法读取备份文件 %(name)s：%(error)s"), name=archive.name, error=error) from None
    try:
        manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
    except ValueError:
        manifest = {}
    if manifest.get("format") != FORMAT:
        raise BackupError(_l("%(name)s 不是本平台的备份文件。"), name=archive.name)
    listed = set(manifest["files"])
    if listed != names - {MANIFEST}:
        raise BackupError(_l("备份文件不完整或多出了文件：%(names)s。"),
                          names=", ".join(sorted(listed ^ (names - {MANIFEST}))))
    damaged = [name for name, digest in sorted(manifest["files"].items()) if file_sha256(work / name) != digest]
    if damaged:
        raise BackupError(_l("备份中的文件校验和不符（文件已损坏或被改动）：%(names)s。"), names=", ".join(damaged))
    return manifest


def _placements(manifest, folders):
    """{archive name: target path} of the archive's registry and upload files in this deployment's folders."""
    placed = {}
    for name in manifest["files"]:
        top, _slash, rest = name.partition("/")
        if top == "database":
            continue
        if not folders.get(top):
            raise BackupError(_l("备份中有 %(folder)s 文件夹的文件，但本部署没有设置该文件夹。"), folder=top)
        placed[name] = Path(folders[top]) / rest
    return placed


def _check_target_empty(engine, placed, digests, force):
    """Refuse (unless `force`) a database holding rows, or a file the restore would replace by another."""
    rows = {name: n for name, n in dumps.count_rows(engine).items() if n and name != "alembic_version"}
    engine.dispose()  # no pooled connection may hold a lock the restore needs
    replaced = [str(target) for name, target in placed.items()
                if target.exists() and file_sha256(target) != digests[name]]
    if (rows or replaced) and not force:
        what = [f"{name} ({n})" for name, n in sorted(rows.items())[:5]] + replaced[:5]
        raise BackupError(_l("恢复目标不为空（%(what)s），恢复会覆盖它们；确认要覆盖请加 --force。"),
                          what=", ".join(what))

