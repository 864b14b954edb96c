"""The job worker of JOBS_BACKEND=rq (`flask jobs worker`): RQ's forking worker, fitted to this app.

Each job runs in a process forked for it (RQ's "work horse"), so that a job that leaks memory or
crashes takes nothing else with it. The horse drops the database connections it inherited (a
connection shared by two processes corrupts both) and runs the job in the app's context; when a
horse dies without a word (killed, out of memory, past its timeout) its run is marked failed.
"""
import logging

from rq import Worker

from app.extensions import dispose_engines

from . import backend, mark_lost

log = logging.getLogger(__name__)


# How long the thread that listens for RQ's commands (stop a job, shut down) waits for one at a time.
# RQ waits 60 s, and with redis-py 8 stopping a worker can wait those 60 s out (the thread is joined
# while it sleeps): a second keeps shutdown prompt for one idle Redis read per second.
COMMAND_POLL_SECONDS = 1


class PromptShutdown:
    """Mixed into an RQ worker: its command listener wakes every COMMAND_POLL_SECONDS, so that it stops
    within about a second of being told to."""

    def subscribe(self):
        """Listen on this worker's command channel (RQ's own steps, with a short wait)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=COMMAND_POLL_SECONDS, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)


class AppWorker(PromptShutdown, Worker):
    """RQ's Worker whose work horses run in `app`'s context on fresh database connections."""

    def __init__(self, app, *args, **kwargs):
        self.app = app
        super().__init__(*args, work_horse_killed_handler=self._horse_killed, **kwargs)

    def main_work_horse(self, job, queue):
        """The forked process of one job: fresh connections, the app's context, then RQ's own steps."""
        dispose_engines(self.app)
        with self.app.app_context():
            super().main_work_horse(job, queue)

    def request_force_stop(self, signum, frame):
        """A second Ctrl-C (cold shutdown): RQ takes the job's process down; its run is marked failed."""
        job = self.get_current_job()
        try:
            super().request_force_stop(signum, frame)
        except SystemExit:
            if job is not None:
                mark_lost(self.app, job.args[0], job.args[1], "the job worker was stopped before the job ended")
            raise

    def _horse_killed(self, job, retpid, ret_val, rusage):
        kind, run_id = job.args[0], job.args[1]
        mark_lost(self.app, kind, run_id, f"the job's process ended unexpectedly (wait status {ret_val})")


def work(app, burst=False):
    """Take the queue's jobs one at a time until stopped (or, with `burst`, until it is empty)."""
    queue = backend(app).queue
    worker = AppWorker(app, [queue], connection=queue.connection)
    log.info("job worker %s on queue %s", worker.name, queue.name)
    return worker.work(burst=burst, logging_level="INFO", with_scheduler=False)
