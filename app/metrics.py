"""Prometheus metrics of the platform, served at /metrics (docs/deploy.md).

- `yintai_http_request_duration_seconds{endpoint, method, status}`: how long each request took;
- `yintai_job_duration_seconds{kind, status}`: how long each background job took and how it ended;
- `yintai_job_queue_depth{backend}`: jobs waiting in the queue (the thread backend: jobs running).

Under gunicorn every worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (by `make
serve`, before any process starts), each process, the job worker's too, writes its samples to files
in that folder and /metrics adds them up, whichever worker answers.
"""
import logging
import os
import time

from flask import g, request, request_finished, request_started
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "yintai_http_request_duration_seconds", "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOB_SECONDS = Histogram(
    "yintai_job_duration_seconds", "Time a background job took, by kind and how it ended.", ["kind", "status"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 2 * 3600, 6 * 3600))


def observe_requests(app):
    """Time every request of `app` from the start of its dispatch to its response."""
    request_started.connect(_started, app, weak=False)
    request_finished.connect(_finished, app, weak=False)


def _started(sender, **extra):
    g.metrics_started = time.perf_counter()


def _finished(sender, response, **extra):
    started = g.pop("metrics_started", None)
    if started is not None:
        REQUEST_SECONDS.labels(endpoint=request.endpoint or "unmatched", method=request.method,
                               status=str(response.status_code)).observe(time.perf_counter() - started)


class QueueDepth:
    """A collector asking the job backend, at each scrape, how many jobs wait."""

    def __init__(self, jobs):
        self.jobs = jobs

    def collect(self):
        gauge = GaugeMetricFamily("yintai_job_queue_depth", "Jobs waiting in the queue (threads: jobs running).",
                                  labels=["backend"])
        try:
            gauge.add_metric([self.jobs.name], self.jobs.depth())
        except Exception:  # Redis down: /readyz says so; the other metrics are still worth a scrape
            log.warning("job queue depth unavailable", exc_info=True)
            return
        yield gauge


def exposition(jobs):
    """(body, content type) of /metrics: this process's metrics, or every process's in multi-process
    mode, and the queue depth of the job backend `jobs`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    depth = CollectorRegistry()
    depth.register(QueueDepth(jobs))
    return body + generate_latest(depth), CONTENT_TYPE_LATEST
