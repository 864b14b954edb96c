"""gunicorn's configuration module for `make serve`: the settings of app/serving.py for this machine and
environment, and its hooks. Importing it sets OMP_NUM_THREADS and SCORING_THREADS (before the app and
LightGBM load), so only gunicorn imports it."""
import os

from app.serving import child_exit, cpu_count, one_thread_per_process, post_fork, settings

one_thread_per_process(os.environ)
globals().update(settings(os.environ, cpu_count()))

__all__ = ["child_exit", "post_fork"]
