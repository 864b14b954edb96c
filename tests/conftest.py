"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL."""
import atexit
import contextvars
import fcntl
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import lightgbm as lgb
import numpy as np
import pandas as pd
import pypdfium2 as pdfium
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, make_url, select, text

from app import create_app, serving
from app.config import TestConfig, normalise_database_url
from app.credit import registry
from app.credit.scoring import latest_score
from app.entities import CreditScore, SourceRecord
from app.entities.audit import APPEND_ONLY_DDL, DROP_APPEND_ONLY_DDL
from app.extensions import db
from app.ingest.runner import export_files
from app.ingest.sources import source_for_file
from app.services import activation, ingestion, scoring_runs

from . import factories

# Under pytest-xdist (`-n N`) each worker process has a name gw0, gw1…: the databases, Redis indexes and
# folders a test writes are the worker's own (see worker_database_url and worker_redis_url).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
WORKER_NUMBER = int(WORKER.removeprefix("gw"))


def worker_database_url(url, number=WORKER_NUMBER):
    """The test database of xdist worker `number`: worker 0 keeps the given one, worker n uses <name>_gwn (created
    when missing by pytest_configure; its own scratch databases are named after it in turn)."""
    if not url or number == 0:
        return url
    given = make_url(url)
    return given.set(database=f"{given.database}_gw{number}").render_as_string(hide_password=False)


def worker_redis_url(url, number=WORKER_NUMBER):
    """The Redis database of xdist worker `number`: the given index less the worker's number (15 → 15, 14, …), so
    that workers never empty each other's keys; a worker left without an index is an error, not a share."""
    if not url or number == 0:
        return url
    parts = urlsplit(url)
    index = int(parts.path.strip("/") or 0) - number
    if index < 0:
        raise RuntimeError(f"{url}: too few Redis databases below it for worker {number}")
    return urlunsplit(parts._replace(path=f"/{index}"))


PG_URL = worker_database_url(os.environ.get("TEST_DATABASE_URL"))
# Tests never read the project's models/: an app uses an empty registry unless a test gives one.
EMPTY_REGISTRY = tempfile.mkdtemp(prefix="yintai-no-models-")
atexit.register(shutil.rmtree, EMPTY_REGISTRY, True)
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must run the database tests on PostgreSQL: set TEST_DATABASE_URL")
# The Redis the tests of rate limits and jobs use (its database is emptied by them): required in CI.
REDIS_URL = worker_redis_url(os.environ.get("TEST_REDIS_URL"))


def pytest_configure(config):
    """An xdist worker's own PostgreSQL database is created before any test reads PG_URL."""
    if PG_URL and WORKER_NUMBER:
        serving.ensure_database(PG_URL)
if os.environ.get("CI") and not REDIS_URL:
    raise RuntimeError("CI must run the Redis tests: set TEST_REDIS_URL")


def _database_url(backend, tmp_path_factory):
    if backend == "postgresql":
        return normalise_database_url(PG_URL)
    return f"sqlite:///{tmp_path_factory.getbasetemp() / 'test.db'}"


def reset_postgres_schema(url):
    """Drop and recreate the public schema: a fresh database for a test session."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        # A test database need not outlive a crash: its commits do not wait for the disk (~6 ms each
        # here, and a test commits several times); applies to the connections opened from now on.
        database = conn.dialect.identifier_preparer.quote_identifier(engine.url.database)
        conn.execute(text(f"ALTER DATABASE {database} SET synchronous_commit = off"))
    engine.dispose()


@pytest.fixture
def redis_url():
    """TEST_REDIS_URL, emptied before the test (skipped without it, except in CI, which requires it)."""
    if not REDIS_URL:
        pytest.skip("no TEST_REDIS_URL")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A database with the schema built, once per backend and session."""
    url = _database_url(request.param, tmp_path_factory)
    if request.param == "postgresql":
        reset_postgres_schema(url)
    app = make_app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return url


class ServerLikeClient(FlaskClient):
    """Runs each request in an app context of its own, as a server does.

    Without this, a request inside the test's app context would share its `g` and database
    session; afterwards the test's session is expired so that it reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


def make_app(url, **overrides):
    """A test app on `url` with the test config and the given overrides (the environment unread)."""
    app = create_app({**TestConfig.settings(), "SQLALCHEMY_DATABASE_URI": url, "MODEL_REGISTRY": EMPTY_REGISTRY,
                      **overrides})
    app.test_client_class = ServerLikeClient
    return app


def logged_in_client(app, user):
    """A test client whose session holds `user`'s login, as after a real login."""
    client = app.test_client()
    if user is None:
        return client
    with app.test_request_context(environ_base=client.environ_base):
        ident = app.login_manager._session_identifier_generator()
    with client.session_transaction() as sess:
        sess.update({"_user_id": user.get_id(), "_fresh": True, "_id": ident})
    return client


@contextmanager
def append_only_lifted(connection):
    """The audit log's append-only triggers dropped for the block and created again after it, as a
    database superuser could do: for emptying tables between tests and for simulating tampering."""
    dialect = connection.dialect.name
    for statement in DROP_APPEND_ONLY_DDL[dialect]:
        connection.exec_driver_sql(statement)
    yield connection
    for statement in APPEND_ONLY_DDL[dialect]:
        connection.exec_driver_sql(statement)


# Above this many rows in a table, PostgreSQL's TRUNCATE beats DELETE (whose foreign-key checks scan the
# unindexed referencing columns once per deleted row); below it DELETE is ~100 times faster, because
# TRUNCATE replaces the files of every table and index it names (about 0.4–1 s for the whole schema).
DELETE_ROWS_AT_MOST = 1000

# The sequences the tables own (serial and identity columns), back at 1 as TRUNCATE … RESTART IDENTITY does.
RESTART_OWNED_SEQUENCES = """
SELECT setval(s.oid, 1, false) FROM pg_class s
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = current_schema()
WHERE s.relkind = 'S'"""


def _empty_postgres_tables(tables):
    """Empty the tables on the session's own connection (a test may do it with its session still in a
    transaction): DELETE from the ones that hold rows when all are small, else TRUNCATE them all."""
    connection = db.session.connection()
    sizes = connection.execute(text(" UNION ALL ".join(
        f"SELECT {i}, (SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT {DELETE_ROWS_AT_MOST + 1}) AS s)"
        for i, table in enumerate(tables)))).all()
    filled = {i: n for i, n in sizes if n}
    with append_only_lifted(connection):
        if max(filled.values(), default=0) > DELETE_ROWS_AT_MOST:
            connection.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for i in sorted(filled):  # referencing tables first
                connection.execute(tables[i].delete())
            connection.execute(text(RESTART_OWNED_SEQUENCES))
    db.session.commit()


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        _empty_postgres_tables(tables)
        return
    # Without foreign-key checks: with them SQLite scans an unindexed referencing column (such as
    # source_record.superseded_by_id) once per deleted row, and emptying a district takes minutes.
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        with append_only_lifted(connection):
            for table in tables:
                connection.execute(table.delete())
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")  # the connection goes back to the pool
        connection.commit()


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh app on empty tables; its app context is pushed for the test."""
    app = make_app(database_url, REJECT_DIR=str(tmp_path / "rejects"), UPLOAD_DIR=str(tmp_path / "uploads"),
                   MESSAGE_ATTACHMENT_DIR=str(tmp_path / "attachments"))
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """An anonymous test client."""
    return app.test_client()


@pytest.fixture
def world(app):
    """One record of every kind, two institutions and two firms (see factories.build_world)."""
    return factories.build_world()


def csrf_token(html):
    """The CSRF token in a page's form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def page_text(response):
    """A response body as text."""
    return response.get_data(as_text=True)


def pdf_text(data):
    """The text of every page of a PDF, as a viewer reads it (PDFium: it reads the CID-keyed CJK fonts of the
    credit report, which pypdf 7.1 decodes one byte per character)."""
    document = pdfium.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document).replace("\r\n", "\n")


def pdf_attachment(data, name):
    """The bytes of the file `name` attached to a PDF."""
    document = pdfium.PdfDocument(data)
    for index in range(document.count_attachments()):
        attachment = document.get_attachment(index)
        if attachment.get_name() == name:
            return bytes(attachment.get_data())
    raise AssertionError(f"no attachment {name}")


def run_module(*args):
    """Run `python -m ARGS…` and return the JSON object on its last line of output."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    if done.returncode != 0:  # the command's own words, not only its exit status
        raise AssertionError(f"python -m {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def built_once(tmp_path_factory, name, build):
    """(what `build(folder)` returned, folder): built once per run into a folder of the run's temporary root,
    which pytest-xdist's workers share; a worker asking while another builds waits for it (file lock), so
    a district or a model that every worker's tests need is made once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, result = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not result.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
            folder.mkdir()
            result.write_text(json.dumps(build(folder)), encoding="utf-8")
        return json.loads(result.read_text(encoding="utf-8")), folder


@pytest.fixture(scope="session")
def synthetic_district(tmp_path_factory):
    """A small generated district (1,500 firms, 48 months) shared by the model and scoring tests."""
    def build(folder):
        out = folder / "district"
        run_module("training.synth", "--firms", "1500", "--months", "48", "--seed", "3", "--out", str(out))
        return str(out)

    return Path(built_once(tmp_path_factory, "district", build)[0])


@pytest.fixture(scope="session")
def trained_model(synthetic_district, tmp_path_factory):
    """A model version trained on the small district: (train's JSON, registry folder)."""
    return built_once(tmp_path_factory, "models", lambda out: run_module(
        "training.train", "--data", str(synthetic_district), "--out", str(out), "--seed", "1"))


SMALL_DISTRICT_FIRMS = 50


def _read_export(path):
    """An export's cells as text (CSV in UTF-8 or GBK, or Excel)."""
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")


@pytest.fixture(scope="session")
def small_district(synthetic_district, tmp_path_factory):
    """50 firms of the synthetic district with all their department records, one file per export kind
    (years joined; corrections stay a file of their own), so that a test ingests it in a second or two."""
    def build(folder):
        out = folder / "district"
        out.mkdir()
        registration = next(synthetic_district.glob("市场监管_主体登记_*.csv"))
        codes = _read_export(registration)[source_for_file(registration.name).subject_column.header]
        chosen = set(codes.iloc[:: max(len(codes) // SMALL_DISTRICT_FIRMS, 1)].iloc[:SMALL_DISTRICT_FIRMS])
        kinds = {}
        for path in sorted(p for p in synthetic_district.iterdir() if p.is_file()):
            kinds.setdefault(path.stem.rsplit("_", 1)[0], []).append(path)
        for kind, paths in kinds.items():
            header = source_for_file(paths[0].name).subject_column.header
            frame = pd.concat([_read_export(path) for path in paths], ignore_index=True)
            frame[frame[header].isin(chosen)].to_csv(out / f"{kind}_all.csv", index=False, encoding="utf-8-sig")
        return str(out)

    return Path(built_once(tmp_path_factory, "small-district", build)[0])


# A version trained on made-up rows whose risk rises with arrears and late payments: the small test
# district's model leans on other features, and "what would improve my grade" needs a model that
# uses the actionable ones (real districts' models do).
ACTIONABLE_VERSION = "20990101-000000-actionable"


def _made_up_rows(metadata, n=4000, seed=7):
    """(matrix, labels): random feature values in realistic ranges; risk from arrears, late payments (of the
    last year and of three years), age."""
    rng = np.random.default_rng(seed)
    columns = {}
    for spec in metadata["features"]:
        name = spec["name"]
        if spec["kind"] == "cat":
            columns[name] = rng.integers(0, len(spec["categories"]), n).astype(float)
        elif name == "si_paid_ratio_12m":
            columns[name] = rng.uniform(0.6, 1.0, n)
        elif name == "tax_arrears_wan":
            columns[name] = np.where(rng.random(n) < 0.7, 0.0, rng.uniform(0.1, 5, n))
        elif name == "util_days_late_max_12m":
            columns[name] = np.where(rng.random(n) < 0.5, 0.0, rng.integers(1, 90, n))
        elif name in ("util_late_per_month_36m", "tax_late_share_36m"):  # rates over the months on file
            columns[name] = np.where(rng.random(n) < 0.4, 0.0, rng.uniform(0, 0.6, n))
        else:
            columns[name] = rng.integers(0, 7, n).astype(float) if spec["monotone"] else rng.normal(5, 3, n)
    logit = (-3.2 + 0.35 * columns["tax_late_filings_12m"] + 0.9 * (columns["tax_arrears_wan"] > 0)
             + 0.3 * columns["si_arrears_months_12m"] + 4 * (1 - columns["si_paid_ratio_12m"])
             + 0.25 * columns["util_late_12m"] + 0.02 * columns["util_days_late_max_12m"]
             + 3 * columns["util_late_per_month_36m"] + 2 * columns["tax_late_share_36m"]
             - 0.1 * columns["firm_age_years"])
    labels = rng.random(n) < 1 / (1 + np.exp(-logit))
    return np.column_stack([columns[spec["name"]] for spec in metadata["features"]]), labels


@pytest.fixture(scope="session")
def actionable_model(trained_model, tmp_path_factory):
    """The folder of a registered version that leans on the actionable features (see ACTIONABLE_VERSION)."""
    result, _ = trained_model

    def build(root):
        source = Path(result["path"])
        metadata = json.loads((source / "metadata.json").read_text(encoding="utf-8"))
        metadata["calibration"] = {"method": "none", "slope": 1.0, "intercept": 0.0}
        matrix, labels = _made_up_rows(metadata)
        names = [spec["name"] for spec in metadata["features"]]
        categorical = [i for i, spec in enumerate(metadata["features"]) if spec["kind"] == "cat"]
        params = {**metadata["parameters"], "num_leaves": 8, "max_depth": 3, "learning_rate": 0.1}
        params.pop("num_boost_round", None)
        booster = lgb.train(params, lgb.Dataset(matrix, labels.astype(float), feature_name=names,
                                                categorical_feature=categorical), num_boost_round=150)
        return str(registry.write_version(root, ACTIONABLE_VERSION, booster, metadata,
                                          json.loads((source / "metrics.json").read_text(encoding="utf-8")),
                                          (source / "card.md").read_text(encoding="utf-8")))

    return Path(built_once(tmp_path_factory, "actionable", build)[0])


@pytest.fixture
def model_registry(trained_model, actionable_model, tmp_path):
    """A registry of the test's own holding the trained version and the actionable one: (folder, trained)."""
    result, _ = trained_model
    root = tmp_path / "registry"
    shutil.copytree(result["path"], root / result["version"])
    shutil.copytree(actionable_model, root / ACTIONABLE_VERSION)
    return root, result["version"]


@pytest.fixture
def scored_world(app, world, small_district, model_registry):
    """The world with the small district ingested and scored by the activated actionable version
    (its activation run executed, as `flask models activate` does).

    The world's firm (its user, need, application to bank A and consent) is moved onto the
    district's subject with the most records among those whose score has reasons.
    """
    root, _trained = model_registry
    version = ACTIONABLE_VERSION
    app.config["MODEL_REGISTRY"] = str(root)
    ingestion.ingest(db.session, export_files(small_district), "610203")
    run = activation.activate(db.session, root, version, world["users"]["platform_admin"], "测试模型", via="test",
                              override="小样本测试模型")
    db.session.commit()
    scoring_runs.execute(db.session, run, root, "610203")
    counts = db.session.execute(select(SourceRecord.subject_id, func.count()).group_by(SourceRecord.subject_id)
                                .order_by(func.count().desc(), SourceRecord.subject_id)).all()
    subject_id = next(sid for sid, _n in counts if latest_score(db.session, sid).reasons)
    for row in (world["users"]["firm"], world["need"], world["application"], world["consent"]):
        row.subject_id = subject_id
    db.session.commit()
    db.session.expire_all()
    score = db.session.get(CreditScore, latest_score(db.session, subject_id).id)
    return {**world, "subject_id": subject_id, "score": score, "registry": root, "version": version}
