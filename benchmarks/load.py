"""Load on the served production stack: `python -m benchmarks.load [--quick] [--users 50,500] [--seconds S]`.

What it does, all on 127.0.0.1:
1. Builds a market in the PostgreSQL database `bench_load` (`--database-url` or BENCH_DATABASE_URL; its name
   must contain "bench"): migrations, a generated district (1,000 firms; `--quick`: 300) loaded through
   ingestion, the demo's institutions, products and logins, a model trained on the district and activated
   (which scores everyone), months of market replayed (`flask market simulate`, 6; `--quick`: 2), and one
   login per simulated firm user (`load_firm_N`, each attached to its own firm).
2. Starts `make serve` on that database (gunicorn's workers sized for the machine, the job worker, Redis for
   the rate limits and the queue) and waits for `/readyz`.
3. Drives it with locust (as a library, headless) through three journeys with think times between pages:
   - firm: log in, home, my score, the need form, post a need (matched at once), the need with its
     products, the consent page of the best-fitting product, apply with consent, the application;
   - officer: log in, the work queue, an application of the queue with its score view, the ranking;
   - regulator: log in, the dashboard, the overdue list, the matching supervision page.
   Each user count (`--users`, default 50 and 500; `--quick`: 20 and 100) runs for a bounded time after a
   ramp-up, preceded in the same run by the baseline: one user of each journey alone on the server.
4. Stops the server (SIGTERM to its process group) and drops the database.

Figures per user count and journey: requests, failures, error rate, throughput (req/s), p50/p95/p99 in ms,
and the ratio of p95 to the baseline's; goals (issue #13): no errors, p95 ≤ 300 ms at 50 users and ≤ 800 ms at
500. The last line printed is one JSON object; progress goes to stderr.
"""
# locust patches the standard library with gevent when imported: first, before anything opens sockets.
import locust  # noqa: I001  (must come first)
import gevent
from locust import HttpUser, between, constant, events, task
from locust.env import Environment

import argparse
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.demo import DEMO_PASSWORD
from benchmarks._load_pages import APPLICATION_LINK, APPLY_LINK, apply_form, login_form, need_form
from benchmarks.ingest import CACHE, say
from benchmarks.scoring import BenchDatabase

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_load"
PROJECT_DIR = Path(__file__).resolve().parent.parent
PASSWORD = DEMO_PASSWORD
GOALS_P95_MS = {50: 300, 500: 800}
SIZES = {"firms": 3_000, "months": 12, "users": (50, 500), "seconds": 120}
QUICK_SIZES = {"firms": 300, "months": 2, "users": (20, 100), "seconds": 30}
SEED = 17
# Users of each journey, out of ten: firms are most of the traffic.
WEIGHTS = {"firm": 6, "officer": 3, "regulator": 1}
OFFICERS = ("officer_bank", "officer_microloan", "admin_bank")
# Users started a second (each logs in at once), and how long past the ramp to wait for the last logins.
SPAWN_RATE = 5
# Seconds a user spends on a page before the next request of the journey (reading, filling a form).
PAGE_THINK = (1.0, 4.0)
RAMP_GRACE_SECONDS = 120

# --- the market -----------------------------------------------------------------------------------------------

_LOAD_USERS_CHILD = """
import json
from sqlalchemy import select
from app import create_app
from app.entities import CreditSubject, User
from app.extensions import db
from app.services import accounts
app = create_app()
with app.app_context():
    taken = set(db.session.scalars(select(User.subject_id).where(User.subject_id.is_not(None))))
    subjects = [s for s in db.session.scalars(select(CreditSubject).order_by(CreditSubject.id).limit({count} + 50))
                if s.id not in taken][:{count}]
    for n, subject in enumerate(subjects):
        accounts.create_user(db.session, f"load_firm_{{n}}", {password!r}, "firm", subject.name, subject=subject)
    db.session.commit()
    print(json.dumps({{"firm_logins": len(subjects)}}))
"""


def _flask(env, *args):
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env, check=True,
                          stdout=subprocess.PIPE, text=True, cwd=PROJECT_DIR)
    return done.stdout


def build_market(env, firms, months, firm_logins):
    """The market of the run in env's database: its district, products, scores, replayed months, logins."""
    district = CACHE / f"load-district-{firms}"
    if not district.is_dir():
        partial = CACHE / f"load-district-{firms}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        say(f"load: generating {firms:,} firms ...")
        subprocess.run([sys.executable, "-m", "training.synth", "--firms", str(firms), "--seed", str(SEED),
                        "--months", "48", "--out", str(partial)], check=True, stdout=subprocess.DEVNULL,
                       cwd=PROJECT_DIR)
        partial.rename(district)
    say("load: migrations, ingest, demo, training, activation ...")
    _flask(env, "db", "upgrade")
    _flask(env, "data", "ingest", str(district))
    _flask(env, "platform", "demo")
    trained = subprocess.run([sys.executable, "-m", "training.train", "--data", str(district), "--out",
                              env["MODEL_REGISTRY"], "--seed", "1"], env=env, check=True, stdout=subprocess.PIPE,
                             text=True, cwd=PROJECT_DIR)
    version = json.loads(trained.stdout.strip().splitlines()[-1])["version"]
    _flask(env, "models", "activate", version, "--by", "platform", "--reason", "load benchmark")
    say(f"load: replaying {months} months ...")
    replay = _flask(env, "market", "simulate", "--months", str(months), "--seed", str(SEED),
                    "--truth", str(district / "_truth" / "firms.csv"))
    market = json.loads(replay.strip().splitlines()[-1])
    code = _LOAD_USERS_CHILD.format(count=firm_logins, password=PASSWORD)
    done = subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.PIPE, text=True,
                          cwd=PROJECT_DIR)
    logins = json.loads(done.stdout.strip().splitlines()[-1])["firm_logins"]
    return {"firms": firms, "months": months, "applications": sum(market["applications"].values()),
            "loans": sum(market["loans"].values()), "firm_logins": logins}


# --- the server -----------------------------------------------------------------------------------------------

class Server:
    """`make serve` on the run's database, in a process group of its own."""

    def __init__(self, env, bind, scratch):
        self.url = f"http://{bind}"
        self.log = open(Path(scratch) / "serve.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "serve", f"DATABASE_URL={env['DATABASE_URL']}",
             f"BIND={bind}", f"METRICS_DIR={Path(scratch) / 'prometheus'}"],
            env=env, cwd=PROJECT_DIR, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=180):
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"make serve stopped (exit {self.process.returncode}); see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:  # noqa: S310 (127.0.0.1)
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise SystemExit(f"the server was not ready within {timeout} s; see {self.log.name}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --- the journeys ---------------------------------------------------------------------------------------------

_firm_numbers = itertools.count()
_officer_numbers = itertools.count()


class Journey(HttpUser):
    """A logged-in user of one role; its requests are named "<journey> <page>"."""

    abstract = True
    journey = ""
    # Between journeys; within one, a user reads each page for PAGE_THINK seconds before the next.
    wait_time = between(2, 8)
    think = PAGE_THINK
    # Users logged in so far (the measured part starts once every user has; a login costs an argon2id hash).
    logged_in = 0

    def read(self):
        """The time a person spends on a page before the next click."""
        if self.think:
            gevent.sleep(random.uniform(*self.think))

    def page(self, name, path, **kwargs):
        self.read()
        with self.client.get(path, name=f"{self.journey} {name}", catch_response=True, **kwargs) as response:
            return self._checked(response)

    def post(self, name, path, data, **kwargs):
        self.read()
        headers = {"Origin": self.host, "Referer": f"{self.host}{path}"}
        with self.client.post(path, data=data, name=f"{self.journey} {name}", headers=headers,
                              catch_response=True, **kwargs) as response:
            return self._checked(response)

    @staticmethod
    def _checked(response):
        if response.status_code >= 400:
            response.failure(f"HTTP {response.status_code}")
            return None
        return response.text

    def log_in(self, username):
        self.post("login", "/login", login_form(self.page("login form", "/login") or "", username, PASSWORD))
        Journey.logged_in += 1


class FirmJourney(Journey):
    """A firm posts a need, looks at its products and applies to the best-fitting one with consent."""

    journey = "firm"
    weight = WEIGHTS["firm"]
    logins = 1

    def on_start(self):
        self.log_in(f"load_firm_{next(_firm_numbers) % self.logins}")

    @task
    def post_and_apply(self):
        self.page("home", "/firm/")
        self.page("score", "/firm/score")
        need = self.post("post need", "/firm/needs/new", need_form(self.page("need form", "/firm/needs/new") or ""))
        link = APPLY_LINK.search(need or "")
        if link is None:
            return
        self.post("apply", link.group(1), apply_form(self.page("apply form", link.group(1)) or ""))


class OfficerJourney(Journey):
    """An officer works the queue: an application with its score, then the ranking."""

    journey = "officer"
    weight = WEIGHTS["officer"]

    def on_start(self):
        self.log_in(OFFICERS[next(_officer_numbers) % len(OFFICERS)])

    @task
    def work_queue(self):
        queue = self.page("queue", "/lender/") or ""
        link = APPLICATION_LINK.search(queue)
        if link is not None:
            self.page("application", link.group(1))
            self.page("application score", f"{link.group(1)}/score")
        self.page("ranking", "/lender/ranking")


class RegulatorJourney(Journey):
    """The regulator watches the market."""

    journey = "regulator"
    weight = WEIGHTS["regulator"]

    def on_start(self):
        self.log_in("regulator")

    @task
    def watch(self):
        self.page("dashboard", "/regulator/")
        self.page("overdue", "/regulator/overdue")
        self.page("matching", "/regulator/matching")


JOURNEYS = {"firm": FirmJourney, "officer": OfficerJourney, "regulator": RegulatorJourney}


class Recorder:
    """Every request's time and outcome, by journey (the part of its name before the first space)."""

    def __init__(self):
        self.times, self.failures, self.pages, self.page_times = {}, {}, {}, {}
        self.errors = []

    def __call__(self, name, response_time, exception, **_):
        journey = name.split(" ", 1)[0]
        self.pages[name] = self.pages.get(name, 0) + 1
        self.page_times.setdefault(name, []).append(response_time)
        self.times.setdefault(journey, []).append(response_time)
        if exception is not None:
            self.failures[journey] = self.failures.get(journey, 0) + 1
            if len(self.errors) < 10:
                self.errors.append(f"{name}: {exception}")

    def figures(self, seconds):
        result = {}
        for journey, times in sorted(self.times.items()):
            values = np.asarray(times, dtype=float)
            p50, p95, p99 = np.percentile(values, [50, 95, 99])
            failures = self.failures.get(journey, 0)
            result[journey] = {"requests": len(values), "failures": failures,
                               "error_rate": round(failures / len(values), 4),
                               "rps": round(len(values) / seconds, 2), "p50_ms": round(p50, 1),
                               "p95_ms": round(p95, 1), "p99_ms": round(p99, 1)}
        everything = np.concatenate([np.asarray(t, dtype=float) for t in self.times.values()]) \
            if self.times else np.zeros(1)
        failures = sum(self.failures.values())
        result["all"] = {"requests": int(everything.size), "failures": failures,
                         "error_rate": round(failures / max(everything.size, 1), 4),
                         "rps": round(everything.size / seconds, 2),
                         **{f"p{q}_ms": round(float(np.percentile(everything, q)), 1) for q in (50, 95, 99)}}
        return result


def drive(url, user_classes, users, seconds, firm_logins, spawn_rate=SPAWN_RATE):
    """`users` users of the journeys for `seconds` once all have logged in: the recorder's figures, with the
    ramp-up's own (its logins are not in the measured figures)."""
    FirmJourney.logins = max(firm_logins, 1)
    environment = Environment(user_classes=user_classes, host=url, events=events)
    recorder = Recorder()
    runner = environment.create_local_runner()
    Journey.logged_in = 0
    ramp_started = time.monotonic()
    runner.start(users, spawn_rate=spawn_rate)
    deadline = ramp_started + users / spawn_rate + RAMP_GRACE_SECONDS
    while Journey.logged_in < users and time.monotonic() < deadline:
        gevent.sleep(0.5)
    ramp = {"seconds": round(time.monotonic() - ramp_started, 1), "logged_in": Journey.logged_in}
    environment.events.request.add_listener(recorder)
    started = time.monotonic()
    gevent.sleep(seconds)
    environment.events.request.remove_listener(recorder)
    elapsed = time.monotonic() - started
    runner.quit()
    figures = recorder.figures(elapsed)
    figures["errors_seen"] = recorder.errors
    figures["pages"] = {name: {"requests": count, **{f"p{q}_ms": round(float(np.percentile(
        recorder.page_times[name], q)), 1) for q in (50, 95)}} for name, count in sorted(recorder.pages.items())}
    figures["ramp"] = ramp
    return figures


def baseline(url, seconds, firm_logins):
    """One user of each journey alone on the server, with a short think time (more samples)."""
    figures = {}
    for journey, user_class in JOURNEYS.items():
        alone = type(f"Alone{user_class.__name__}", (user_class,), {"wait_time": constant(0.5), "think": None})
        figures[journey] = drive(url, [alone], 1, seconds, firm_logins)[journey]
    return figures


def summary(runs, base, goals):
    out = {}
    for users, figures in runs.items():
        row = {journey: {**values, "p95_ratio": round(values["p95_ms"] / max(base.get(journey, {}).get("p95_ms", 0),
                                                                           1e-9), 2) if journey in base else None}
               for journey, values in figures.items() if journey not in ("errors_seen", "pages", "ramp")}
        goal = goals.get(users)
        row["goal_p95_ms"] = goal
        journeys = [values for values in row.values() if isinstance(values, dict)]
        row["goal_met"] = None if goal is None else (
            row["all"]["failures"] == 0 and all(values["p95_ms"] <= goal for values in journeys))
        row["errors_seen"], row["pages"], row["ramp"] = figures["errors_seen"], figures["pages"], figures["ramp"]
        out[str(users)] = row
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small market and user counts (a few minutes)")
    parser.add_argument("--users", help="user counts, comma-separated (default 50,500; --quick 20,100)")
    parser.add_argument("--seconds", type=int, help="measured seconds per user count (default 120; --quick 30)")
    parser.add_argument("--firms", type=int, help="firms of the district (default 1,000; --quick 300)")
    parser.add_argument("--months", type=int, help="months of market replayed (default 6; --quick 2)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    parser.add_argument("--bind", default="127.0.0.1:8765", help="where `make serve` listens (127.0.0.1 only)")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    users = [int(n) for n in args.users.split(",")] if args.users else list(sizes["users"])
    seconds, firms, months = (args.seconds or sizes["seconds"], args.firms or sizes["firms"],
                              args.months or sizes["months"])
    if not args.bind.startswith("127.0.0.1:"):
        raise SystemExit("the load benchmark only targets 127.0.0.1")
    database = BenchDatabase(args.database_url)
    url = database.fresh()
    server = None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        env = {**os.environ, "DATABASE_URL": url, "MODEL_REGISTRY": str(Path(scratch) / "models"),
               "UPLOAD_DIR": str(Path(scratch) / "uploads"), "REJECT_DIR": str(Path(scratch) / "rejects")}
        try:
            market = build_market(env, firms, months, firm_logins=max(users) * WEIGHTS["firm"] // 10)
            say(f"load: market ready: {market}")
            server = Server(env, args.bind, scratch)
            server.wait_ready()
            say(f"load: serving at {server.url}; baseline (one user per journey, {seconds // 2} s each) ...")
            base = baseline(server.url, max(seconds // 2, 10), market["firm_logins"])
            runs = {}
            for count in users:
                say(f"load: {count} users for {seconds} s ...")
                runs[count] = drive(server.url, list(JOURNEYS.values()), count, seconds, market["firm_logins"])
                say(f"load: {count} users: {runs[count]['all']}")
        finally:
            if server is not None:
                server.stop()
            database.drop()
    goals = {count: GOALS_P95_MS.get(count) for count in users}
    result = {"load_market": market, "load_seconds": seconds, "load_baseline": base,
              "load_runs": summary(runs, base, goals), "load_locust": locust.__version__,
              "load_cpus": os.cpu_count()}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
