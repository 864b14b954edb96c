"""Where a job runs: a thread of this process, or Redis's queue for the job worker (JOBS_BACKEND)."""
import logging
import threading
import time

log = logging.getLogger(__name__)

# The job threads this process started (the thread backend), for `wait` and the queue depth.
_threads = []
_threads_lock = threading.Lock()


class ThreadBackend:
    """Each job in a daemon thread of the submitting process: no queue, nothing else to run; a job
    dies with its process (the demo and the tests)."""

    name = "threads"

    def __init__(self, app):
        self.app = app

    def submit(self, kind, run_id, params):
        """Start the job now in a thread of its own."""
        thread = threading.Thread(target=_run_quietly, args=(self.app, kind, run_id, params),
                                  name=f"job-{kind}-{run_id}", daemon=True)
        with _threads_lock:
            _threads[:] = [t for t in _threads if t.is_alive()]
            _threads.append(thread)
        thread.start()

    def depth(self):
        """Jobs of this process not finished yet (all of them are running: threads do not wait)."""
        with _threads_lock:
            return sum(t.is_alive() for t in _threads)


def _run_quietly(app, kind, run_id, params):
    from . import execute

    try:
        execute(app, kind, run_id, params)
    except Exception as error:  # recorded on the run by execute; a thread has nobody else to tell
        log.warning("job %s of run %s failed: %s", kind, run_id, error)


def wait(timeout=120):
    """Wait until this process's job threads, and the follow-ups they submit, have ended (the CLI and
    the tests use it); at most `timeout` seconds (None: as long as they take)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        with _threads_lock:
            alive = [t for t in _threads if t.is_alive()]
        if not alive:
            return
        for thread in alive:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))


class RQBackend:
    """Jobs queued in Redis (REDIS_URL) for `flask jobs worker`: they outlive the web worker that
    submitted them, wait their turn, and stop after JOB_TIMEOUT_SECONDS."""

    name = "rq"

    def __init__(self, app):
        url = app.config.get("REDIS_URL")
        if not url:
            raise ValueError("JOBS_BACKEND=rq needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        self.url, self.queue_name = url, app.config["JOBS_QUEUE"]
        self.timeout = int(app.config["JOB_TIMEOUT_SECONDS"])
        self._queue = None

    @property
    def queue(self):
        """The rq Queue (connected on first use: the web's processes are forked after the app is built)."""
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            self._queue = Queue(self.queue_name, connection=Redis.from_url(self.url, socket_connect_timeout=5))
        return self._queue

    def submit(self, kind, run_id, params):
        """Queue the job; a worker takes it in turn."""
        self.queue.enqueue("app.jobs.perform", kind, run_id, params, job_timeout=self.timeout,
                           result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600, description=f"{kind} run {run_id}")

    def depth(self):
        """Jobs waiting in the queue."""
        return self.queue.count


BACKENDS = {backend.name: backend for backend in (ThreadBackend, RQBackend)}
