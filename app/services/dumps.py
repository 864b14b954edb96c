"""Copies of the database for backups: `pg_dump` / `pg_restore` for PostgreSQL, SQLite's online backup
API, and what a copy is checked by (rows per table, Alembic revision). See app/services/backup.py."""
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

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


def count_rows(connectable):
    """{table: rows} of every table of the database (`connectable`: an engine or an open connection)."""
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            return count_rows(connection)
    return {name: connectable.scalar(select(func.count()).select_from(table(name)))
            for name in sorted(inspect(connectable).get_table_names())}


def alembic_revision(connection):
    """The database's Alembic revision(s) as one string ("a,b" for several heads); refuses a database without."""
    revisions = []
    if "alembic_version" in inspect(connection).get_table_names():
        revisions = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
    if not revisions:
        raise BackupError(_l("该数据库没有 Alembic 版本记录（不是用 flask db upgrade 建立的），无法备份。"))
    return ",".join(sorted(revisions))


def restore_sqlite(engine, source):
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


def copy_sqlite(engine, destination):
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
            return {"alembic_revision": alembic_revision(connection), "row_counts": count_rows(connection),
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


def dump_postgresql(engine, destination):
    """pg_dump (custom format) of the database in the snapshot its row counts and revision are read in."""
    url, environment = _libpq(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        major = server_major(connection)
        tool = find_tool("pg_dump", major)
        revision, counts = alembic_revision(connection), count_rows(connection)
        _run([tool, "--format=custom", f"--snapshot={snapshot}", f"--file={destination}", f"--dbname={url}"],
             environment)
        server = connection.scalar(text("SHOW server_version"))
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {"alembic_revision": revision, "row_counts": counts,
            "about": {"server_version": server, "tool": version}}


def restore_postgresql(engine, source):
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
