"""Fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL."""
import contextvars
import os
import re

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.config import TestConfig, normalise_database_url
from app.extensions import db

from . import factories

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must run the database tests on PostgreSQL: set TEST_DATABASE_URL")


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
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A database with the schema built, once per backend and session."""
    url = _database_url(request.param, tmp_path_factory)
    if request.param == "postgresql":
        reset_postgres_schema(url)
    app = create_app({**TestConfig.from_environment(), "SQLALCHEMY_DATABASE_URI": url})
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
    """A test app on `url` with the test config and the given overrides."""
    app = create_app({**TestConfig.from_environment(), "SQLALCHEMY_DATABASE_URI": url, **overrides})
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


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh app on empty tables; its app context is pushed for the test."""
    app = make_app(database_url, REJECT_DIR=str(tmp_path / "rejects"), UPLOAD_DIR=str(tmp_path / "uploads"))
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


def run_module(*args):
    """Run `python -m ARGS…` and return the JSON object on its last line of output."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def synthetic_district(tmp_path_factory):
    """A small generated district (1,500 firms, 48 months) shared by the model and scoring tests."""
    folder = tmp_path_factory.mktemp("district") / "district"
    run_module("training.synth", "--firms", "1500", "--months", "48", "--seed", "3", "--out", str(folder))
    return folder


@pytest.fixture(scope="session")
def trained_model(synthetic_district, tmp_path_factory):
    """A model version trained on the small district: (train's JSON, registry folder)."""
    out = tmp_path_factory.mktemp("models")
    return run_module("training.train", "--data", str(synthetic_district), "--out", str(out), "--seed", "1"), out
