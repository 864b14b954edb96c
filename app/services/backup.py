"""Backup and restore of a deployment: the database, the model registry and the platform's files in one archive.

An archive is a gzipped tar holding `manifest.json`, the database (PostgreSQL: a `pg_dump` custom-format
dump taken in one snapshot; SQLite: a copy made with SQLite's online backup API, safe while the platform
writes) and every file of the folders it is given: the model registry (`models/…`), the uploads
(`uploads/…`) and the ingestion's reject reports (`rejects/…`). The
manifest records when, which database kind and Alembic revision, the rows of every table (counted in the
same snapshot as the dump) and the sha256 of every file.

A restore checks everything before it changes anything: the sha256 of every file, that the archive's
revision is one this code knows (an archive of newer code is refused), that the database kind matches,
and that the target holds no data (unless forced). The database is then replaced in one transaction
(PostgreSQL: `psql --single-transaction`; SQLite: the backup API, which swaps the whole file's pages),
the files are written, and the rows of every table are counted again against the manifest.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask_babel import lazy_gettext as _l
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from app.common.checksums import file_sha256

FORMAT = "yintai-backup/1"
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database/yintai.dump", "sqlite": "database/yintai.sqlite3"}
# Debian's postgresql-client-N puts the tools of major version N here; PATH is searched after it.
VERSIONED_BIN = "/usr/lib/postgresql/{major}/bin"
# Pages copied per step of SQLite's online backup (4 KiB pages: 16 MiB a step, a fraction of a second
# during which the platform's writers wait; they write between steps).
SQLITE_STEP_PAGES = 4096
# A write between two steps makes SQLite start the copy again (that is what keeps it consistent); when
# the database is still being written after this many seconds (an ingestion, a scoring run), the backup
# is refused rather than retried for ever.
SQLITE_RETRY_SECONDS = 300
# How long a restore waits for the tables' locks before giving up (the platform must be stopped).
LOCK_TIMEOUT_MS = 30_000


class BackupError(Exception):
    """A backup or a restore refused or failed; `message` is its text in the current language."""

    def __init__(self, template, **values):
        self.template, self.values = template, values
        super().__init__(self.message)

    @property
    def message(self):
        """The text in the current language (the template is a lazy string)."""
        return str(self.template) % self.values if self.values else str(self.template)


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
        database = _dump_postgresql(engine, database_file) if kind == "postgresql" else _copy_sqlite(
            engine, database_file)
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
        if kind == "postgresql":
            _restore_postgresql(engine, source)
        else:
            _restore_sqlite(engine, source)
        for name, target in placed.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / name, target)
    counts = _count_rows(engine)
    if counts != manifest["row_counts"]:
        raise BackupError(_l("恢复后的行数与备份清单不一致：%(tables)s。"),
                          tables=", ".join(t for t in sorted(set(counts) | set(manifest["row_counts"]))
                                           if counts.get(t) != manifest["row_counts"].get(t)))
    return {"archive": str(archive), "database": kind, "created_at": manifest["created_at"], **revision,
            "tables": counts, "rows": sum(counts.values()), "files": _files_per_folder(manifest["files"]),
            "checksums_verified": len(manifest["files"]), "seconds": round(time.perf_counter() - started, 2)}


def _count_rows(connectable):
    """{table: rows} of every table of the database (`connectable`: an engine or an open connection)."""
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            return _count_rows(connection)
    return {name: connectable.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(inspect(connectable).get_table_names())}


def _alembic_revision(connection):
    """The database's Alembic revision(s) as one string ("a,b" for several heads); refuses a database without."""
    revisions = []
    if "alembic_version" in inspect(connection).get_table_names():
        revisions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
    if not revisions:
        raise BackupError(_l("该数据库没有 Alembic 版本记录（不是用 flask db upgrade 建立的），无法备份。"))
    return ",".join(sorted(revisions))


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
            tar.addfile(info, _BytesReader(body))
            for name, path in sorted(files.items()):
                tar.add(path, arcname=name, recursive=False)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return archive


class _BytesReader:
    """The file object tarfile reads the manifest from."""

    def __init__(self, data):
        self.data, self.position = data, 0

    def read(self, size=-1):
        """Up to `size` bytes (all that is left by default)."""
        end = len(self.data) if size is None or size < 0 else self.position + size
        chunk, self.position = self.data[self.position:end], min(end, len(self.data))
        return chunk


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
    rows = {name: n for name, n in _count_rows(engine).items() if n and name != "alembic_version"}
    engine.dispose()  # no pooled connection may hold a lock the restore needs
    replaced = [str(target) for name, target in placed.items()
                if target.exists() and file_sha256(target) != digests[name]]
    if (rows or replaced) and not force:
        what = [f"{name} ({n})" for name, n in sorted(rows.items())[:5]] + replaced[:5]
        raise BackupError(_l("恢复目标不为空（%(what)s），恢复会覆盖它们；确认要覆盖请加 --force。"),
                          what=", ".join(what))


def _restore_sqlite(engine, source):
    """Replace the SQLite database of `engine` by `source`, page by page in one transaction."""
    path = make_url(engine.url).database
    if not path or path == ":memory:":
        raise BackupError(_l("恢复目标必须是一个数据库文件。"))
    engine.dispose()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    origin, target = sqlite3.connect(source), sqlite3.connect(path, timeout=LOCK_TIMEOUT_MS / 1000)
    try:
        origin.backup(target)  # all pages in one step: the target changes whole or not at all
    finally:
        target.close()
        origin.close()


def _copy_sqlite(engine, destination):
    """Copy the SQLite database with the online backup API (safe while others write); its revision and rows."""
    path = make_url(engine.url).database
    if not path or path == ":memory:":
        raise BackupError(_l("只能备份数据库文件，不能备份内存数据库。"))
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_MS / 1000)
    target = sqlite3.connect(destination)
    try:
        # In WAL mode one step reads one snapshot while the platform's writers go on. In the default
        # rollback-journal mode one step would hold them off for the whole copy ("database is locked"),
        # so the copy goes in steps with the writers in between, and SQLite starts it again after a
        # write: either way the copy is one consistent state of the database.
        wal = source.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        source.backup(target, pages=-1 if wal else SQLITE_STEP_PAGES, progress=_RestartLimit())
    finally:
        target.close()
        source.close()
    copy = create_engine(f"sqlite:///{destination}")
    try:
        with copy.connect() as connection:
            return {"alembic_revision": _alembic_revision(connection), "row_counts": _count_rows(connection),
                    "about": {"sqlite_version": sqlite3.sqlite_version}}
    finally:
        copy.dispose()


class _RestartLimit:
    """The progress callback of SQLite's backup: refuses a copy that still starts again after the time limit."""

    def __init__(self):
        self.started, self.restarts, self.remaining = time.monotonic(), 0, None

    def __call__(self, status, remaining, total):
        if self.remaining is not None and remaining > self.remaining:
            self.restarts += 1
            if time.monotonic() - self.started > SQLITE_RETRY_SECONDS:
                raise BackupError(_l("备份期间数据库一直在写入：%(s)d 秒内复制重新开始了 %(n)d 次，仍未完成。"
                                     "请在数据导入或评分结束后再备份。"), s=SQLITE_RETRY_SECONDS, n=self.restarts)
        self.remaining = remaining


def _libpq(engine):
    """(connection URL without the password, environment with it) for the PostgreSQL command-line tools."""
    url = make_url(engine.url)
    environment = dict(os.environ, PGOPTIONS=f"-c lock_timeout={LOCK_TIMEOUT_MS}")
    if url.password:
        environment["PGPASSWORD"] = url.password
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), environment


def server_major(connection):
    """The PostgreSQL server's major version (15 for 15.20)."""
    return int(connection.scalar(text("SHOW server_version_num"))) // 10000


def find_tool(name, major):
    """The path of PostgreSQL tool `name` of major version `major`; refuses a missing or other-version tool."""
    versioned = Path(VERSIONED_BIN.format(major=major)) / name
    path = str(versioned) if versioned.is_file() else shutil.which(name)
    if path is None:
        raise BackupError(_l("找不到 %(tool)s：请安装与数据库服务器同一主版本的 PostgreSQL 客户端"
                             "（Debian：postgresql-client-%(major)d）。"), tool=name, major=major)
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"\) (\d+)", version)
    if found is None or int(found.group(1)) != major:
        raise BackupError(_l("%(tool)s 的版本（%(version)s）与数据库服务器的主版本 %(major)d 不一致，"
                             "请安装 postgresql-client-%(major)d。"),
                          tool=path, version=version.strip() or "?", major=major)
    return path


def _run(command, environment, **options):
    """Run a PostgreSQL tool; its error output becomes the refusal's text."""
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, **options)
    if done.returncode != 0:
        raise BackupError(_l("%(tool)s 失败：%(error)s"), tool=Path(command[0]).name,
                          error=done.stderr.strip()[-2000:] or done.returncode)
    return done


def _dump_postgresql(engine, destination):
    """pg_dump (custom format) of the database in the snapshot its row counts and revision are read in."""
    url, environment = _libpq(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        major = server_major(connection)
        tool = find_tool("pg_dump", major)
        revision, counts = _alembic_revision(connection), _count_rows(connection)
        _run([tool, "--format=custom", f"--snapshot={snapshot}", f"--file={destination}", f"--dbname={url}"],
             environment)
        server = connection.scalar(text("SHOW server_version"))
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {"alembic_revision": revision, "row_counts": counts,
            "about": {"server_version": server, "tool": version}}


def _restore_postgresql(engine, source):
    """Replace the public schema by the dump's in one transaction: psql applies pg_restore's script and
    commits only at its end; if pg_restore fails first, psql is killed and the server rolls back."""
    url, environment = _libpq(engine)
    with engine.connect() as connection:
        major = server_major(connection)
    engine.dispose()
    pg_restore, psql = find_tool("pg_restore", major), find_tool("psql", major)
    with tempfile.TemporaryFile() as psql_errors, tempfile.TemporaryFile() as restore_errors:
        applying = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
             "--command=DROP SCHEMA public CASCADE", "--command=CREATE SCHEMA public", "--file=-", f"--dbname={url}"],
            env=environment, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors)
        script = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-", str(source)],
                                  env=environment, stdout=subprocess.PIPE, stderr=restore_errors)
        fed = _feed(script.stdout, applying.stdin)
        restored = script.wait() == 0
        if fed and restored:
            fed = _close(applying.stdin)  # the end of its input: psql commits
        else:
            applying.kill()  # never let psql reach its COMMIT with part of the script
            _close(applying.stdin)
        applying.wait()
        # The first failure explains the others: psql gone first, else pg_restore, else psql at the end.
        failures = [(applying, psql_errors)] if not fed else []
        failures += [(script, restore_errors)] if not restored else []
        failures += [(applying, psql_errors)] if applying.returncode != 0 else []
        if failures:
            process, errors = failures[0]
            errors.seek(0)
            raise BackupError(_l("%(tool)s 失败：%(error)s"), tool=Path(process.args[0]).name,
                              error=errors.read().decode("utf-8", "replace").strip()[-2000:] or process.returncode)


def _close(writer):
    """Close a pipe; False when its reader had already gone."""
    try:
        writer.close()
    except BrokenPipeError:
        return False
    return True


def _feed(reader, writer, block=1 << 20):
    """Copy `reader` into `writer` until its end (then close the reader); False when the writer went away first."""
    try:
        for chunk in iter(lambda: reader.read(block), b""):
            writer.write(chunk)
        writer.flush()
    except BrokenPipeError:
        return False
    finally:
        reader.close()
    return True
