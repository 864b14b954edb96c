"""gunicorn's configuration (app/serving.py) and a real gunicorn serving the app."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from app import serving
from app.extensions import db
from app.services import market_figures

from .conftest import PG_URL, make_app

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = "python:app.gunicorn_conf"


@pytest.mark.parametrize(("cpus", "environ", "workers", "threads"), [
    (2, {}, 5, 4), (8, {}, 17, 4), (1, {}, 3, 4),
    (2, {"WEB_CONCURRENCY": "3", "WEB_THREADS": "8"}, 3, 8), (2, {"WEB_CONCURRENCY": ""}, 5, 4),
])
def test_workers_and_threads_follow_the_cpus_unless_the_environment_says(cpus, environ, workers, threads):
    settings = serving.settings(environ, cpus)
    assert (settings["workers"], settings["threads"], settings["worker_class"]) == (workers, threads, "gthread")
    assert settings["preload_app"] is True and "%(M)s" in settings["access_log_format"]


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_worker_count_is_refused(value):
    with pytest.raises(ValueError):
        serving.settings({"WEB_CONCURRENCY": value}, 2)


def test_openmp_and_the_scorer_get_one_thread_per_process_unless_told_otherwise():
    environ = {"OMP_NUM_THREADS": "2"}
    serving.one_thread_per_process(environ)
    assert environ == {"OMP_NUM_THREADS": "2", "SCORING_THREADS": "1"}


def _python(code, **environ):
    """What `code` prints in a fresh interpreter with this environment (less the thread settings) and `environ`."""
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SCORING_THREADS", "WEB_CONCURRENCY")}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env={**base, **environ}, capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


def test_importing_the_serving_module_changes_no_environment():
    # It once applied its settings on import: a test importing it left OMP_NUM_THREADS=1 and
    # SCORING_THREADS=1 for every later test of the session.
    code = "import os, app.serving; print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('SCORING_THREADS'))"
    assert _python(code) == ["None", "None"]


def test_the_configuration_module_gunicorn_reads_applies_the_settings_and_hooks():
    code = ("import os, app.gunicorn_conf as c, app.serving as s; "
            "print(c.workers, c.threads, c.post_fork is s.post_fork, c.child_exit is s.child_exit, "
            "os.environ['OMP_NUM_THREADS'], os.environ['SCORING_THREADS'])")
    assert _python(code, WEB_CONCURRENCY="3") == ["3", "4", "True", "True", "1", "1"]


def test_a_forked_worker_drops_the_connections_of_the_preloaded_app(database_url):
    app = make_app(database_url)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        inherited = db.engine.pool
        assert inherited.checkedin() == 1
        serving.post_fork(SimpleNamespace(app=SimpleNamespace(callable=app)), SimpleNamespace(pid=1))
        assert db.engine.pool is not inherited and db.engine.pool.checkedin() == 0
        serving.post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), None)  # not preloaded: nothing


@pytest.mark.skipif(not PG_URL, reason="no TEST_DATABASE_URL")
def test_make_serve_leaves_an_existing_database_as_it_is():
    # Creating one is left to `make serve` itself: CREATE DATABASE takes up to a minute on a busy server.
    assert serving.ensure_database(PG_URL) is False
    assert serving.ensure_database("sqlite:///instance/yintai.db") is False


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), response.read().decode("utf-8")


def test_gunicorn_serves_the_app_with_its_configuration(tmp_path):
    database = tmp_path / "serve.db"
    with make_app(f"sqlite:///{database}").app_context():
        db.create_all()
        db.engine.dispose()
    port = _free_port()
    environ = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "BIND": f"127.0.0.1:{port}",
               "WEB_CONCURRENCY": "2", "WEB_THREADS": "2", "JOBS_BACKEND": "threads", "SECRET_KEY": "smoke"}
    for name in ("PROMETHEUS_MULTIPROC_DIR", "REDIS_URL", "RATELIMIT_STORAGE_URI"):
        environ.pop(name, None)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", CONFIG, "app:create_app()"],
                                  cwd=PROJECT, env=environ, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.25)
        assert status == 200 and '"ok"' in body
        assert headers["Server"] == "gunicorn"  # no version for a scanner to match
        status, _headers, page = _get(f"http://127.0.0.1:{port}/login")
        assert status == 200 and "登录" in page
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    written = log.read_text()
    assert "Booting worker" in written and written.count("Booting worker") == 2
    assert '"GET /login HTTP/1.1" 200' in written and "ms\n" in written  # the access log, with the time taken


def test_a_forked_worker_begins_reading_the_market_for_the_dashboard(database_url):
    app = make_app(database_url, DASHBOARD_BACKGROUND_REFRESH=True)
    with app.app_context():
        serving.post_fork(SimpleNamespace(app=SimpleNamespace(callable=app)), SimpleNamespace(pid=1))
        assert market_figures.wait_for_refresh(app, timeout=30)
        assert app.extensions[market_figures.FIGURES_KEY][1].read_at is not None
        db.session.remove()
        # The reading thread's connection went back to the pool: left open, it would lock out a later test
        # on the shared SQLite file that changes its journal mode (test_backup's, when pytest-xdist runs it after).
        db.engine.dispose()
