"""How gunicorn serves the app under `make serve` (docs/deploy.md); `app/gunicorn_conf.py` applies it:
`gunicorn -c python:app.gunicorn_conf 'app:create_app()'`. Importing this module changes nothing.

Sized for the machine it starts on, each number overridable by the environment:
- workers: WEB_CONCURRENCY, else 2 × CPUs + 1 (gunicorn's rule of thumb: while one worker waits on
  the database another computes);
- threads per worker: WEB_THREADS, else 4 (gthread workers: a slow page does not hold a whole process);
- LightGBM and every OpenMP library: one thread per process (OMP_NUM_THREADS, SCORING_THREADS), since
  the workers already fill the cores and OpenMP threads in each would fight over them.
The app is built once in the master (preload_app: quicker start, shared memory) and forked into the
workers; each worker then drops the database connections it inherited (post_fork).
"""
import os

from app.extensions import dispose_engines

DEFAULT_THREADS = 4


def cpu_count():
    """The CPUs this process may run on (a container's or taskset's limit, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _positive(environ, name, default):
    value = environ.get(name)
    if value in (None, ""):
        return default
    number = int(value)
    if number < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return number


def settings(environ, cpus):
    """gunicorn's settings for a machine with `cpus` CPUs and this environment."""
    return {
        "bind": [environ.get("BIND", "127.0.0.1:8000")],
        "workers": _positive(environ, "WEB_CONCURRENCY", 2 * cpus + 1),
        "threads": _positive(environ, "WEB_THREADS", DEFAULT_THREADS),
        "worker_class": "gthread",
        "preload_app": True,
        # A worker silent this long is restarted; long work runs as jobs, not in requests.
        "timeout": _positive(environ, "WEB_TIMEOUT", 60),
        "graceful_timeout": 30,
        "keepalive": 5,
        # Recycle a worker after this many requests (memory held by pandas stays bounded).
        "max_requests": 2000,
        "max_requests_jitter": 200,
        # gunicorn's heartbeat files in memory, as its documentation advises (not a place for data).
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # nosec B108
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": environ.get("LOG_LEVEL", "info"),
        # Combined log format plus the time taken, in milliseconds.
        "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms',
        "proc_name": "yintai",
        # No runtime control socket (gunicorn ≥ 25 opens one in $HOME by default): workers are changed
        # by restarting with other settings, and two instances on one machine would share its path.
        "control_socket_disable": True,
    }


def one_thread_per_process(environ):
    """Set OMP_NUM_THREADS and SCORING_THREADS to 1 unless given: read by OpenMP when LightGBM loads and by
    the app factory, both after this (the app is built after the configuration is read)."""
    environ.setdefault("OMP_NUM_THREADS", "1")
    environ.setdefault("SCORING_THREADS", "1")


def ensure_database(url):
    """Create the PostgreSQL database of `url` when its server lacks it (`make serve`); other URLs need nothing."""
    from sqlalchemy import create_engine, make_url, text

    from app.config import normalise_database_url

    target = make_url(normalise_database_url(url))
    if not target.drivername.startswith("postgresql"):
        return False
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}):
                return False
            quoted = connection.dialect.identifier_preparer.quote_identifier(target.database)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        engine.dispose()


def post_fork(server, worker):
    """In a new worker: drop the database connections of the app preloaded in the master, then begin reading the
    market for the regulator's dashboard in the background (DASHBOARD_BACKGROUND_REFRESH), so that the worker's
    first dashboard view does not read it itself."""
    app = getattr(server.app, "callable", None)
    if app is not None:
        dispose_engines(app)
        from app.services import market_figures

        market_figures.warm_up(app)


def child_exit(server, worker):
    """A worker has ended: its live values leave the multi-process metrics (its counts stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
