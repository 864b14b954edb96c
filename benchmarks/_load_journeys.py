"""The journeys of the load benchmark (benchmarks/load.py), as a locustfile: firms posting needs and
applying, officers working their queues, the regulator watching the market.

Run by `python -m benchmarks.load`, never on its own against anything but 127.0.0.1. The accounts
come from the benchmark's setup: LOAD_FIRMS, LOAD_OFFICERS and LOAD_REGULATORS name them
(comma-separated), LOAD_PASSWORD is theirs. Every request is named by its journey and step, so
locust's statistics are per journey.
"""
import itertools
import os
import re
import threading

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"')
APPLY_LINK = re.compile(r'href="(/firm/needs/\d+/apply/\d+)"')
APPLICATION_LINK = re.compile(r'href="(/lender/applications/\d+)"')
NEED_LINK = re.compile(r'/firm/needs/(\d+)')


class Accounts:
    """Hands out the benchmark's accounts of one role in turn, across the users of one process."""

    def __init__(self, variable):
        names = [n for n in os.environ.get(variable, "").split(",") if n]
        self._cycle = itertools.cycle(names) if names else None
        self._lock = threading.Lock()

    def next(self):
        with self._lock:
            return next(self._cycle) if self._cycle else None


FIRMS, OFFICERS, REGULATORS = Accounts("LOAD_FIRMS"), Accounts("LOAD_OFFICERS"), Accounts("LOAD_REGULATORS")


def token(pattern, html):
    found = pattern.search(html or "")
    return (found.group(1) or found.group(2)) if found else None


class Journey(HttpUser):
    abstract = True
    accounts = None
    journey = ""
    wait_time = between(1, 3)

    def on_start(self):
        self.username = self.accounts.next()
        page = self.client.get("/login", name=f"{self.journey}: login page").text
        self.post("/login", {"username": self.username, "password": PASSWORD,
                             "csrf_token": token(CSRF, page)}, "login")

    def post(self, path, data, step):
        """A form post as the browser sends it (same-origin headers, no redirect followed)."""
        headers = {"Origin": self.host, "Referer": self.host + path}
        with self.client.post(path, data=data, headers=headers, allow_redirects=False,
                              name=f"{self.journey}: {step}", catch_response=True) as response:
            if response.status_code not in (200, 302, 303):
                response.failure(f"{step}: HTTP {response.status_code}")
            return response

    def get(self, path, step):
        with self.client.get(path, name=f"{self.journey}: {step}", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{step}: HTTP {response.status_code}")
            return response


class Firm(Journey):
    """A firm looks at its home page and score, posts a need, reads its matches and applies."""

    accounts, journey, weight = FIRMS, "firm", 5

    @task(3)
    def home(self):
        self.get("/firm/", "home")

    @task(1)
    def score(self):
        self.get("/firm/score", "score")

    @task(1)
    def post_need_and_apply(self):
        form = self.get("/firm/needs/new", "need form").text
        posted = self.post("/firm/needs/new", {
            "csrf_token": token(CSRF, form), "form_token": token(FORM_TOKEN, form), "amount_wan": "20",
            "term_months": "12", "purpose": "补充流动资金（压力测试）", "guarantee": "credit", "max_rate": "",
            "urgency": "normal"}, "post need")
        location = posted.headers.get("Location", "")
        if not NEED_LINK.search(location):
            return
        need = self.get(location, "need and matches").text
        link = APPLY_LINK.search(need or "")
        if link is None:
            return
        apply_page = self.get(link.group(1), "apply form").text
        self.post(link.group(1), {"csrf_token": token(CSRF, apply_page), "form_token": token(FORM_TOKEN, apply_page),
                                  "consent": "y"}, "apply")


class Officer(Journey):
    """An officer works the queue: the list in each scope, an application with its score and reasons."""

    accounts, journey, weight = OFFICERS, "officer", 3

    @task(3)
    def queue(self):
        page = self.get("/lender/", "queue").text
        found = APPLICATION_LINK.findall(page or "")
        if found:
            self.get(found[len(found) // 2], "application")

    @task(1)
    def mine(self):
        self.get("/lender/?scope=mine", "queue: mine")

    @task(1)
    def ranking(self):
        self.get("/lender/ranking", "ranking")


class Regulator(Journey):
    """The regulator watches the market, the matching and the overdue list."""

    accounts, journey, weight = REGULATORS, "regulator", 1

    @task(2)
    def dashboard(self):
        self.get("/regulator/", "dashboard")

    @task(1)
    def overdue(self):
        self.get("/regulator/overdue", "overdue")

    @task(1)
    def matching(self):
        self.get("/regulator/matching", "matching")
