# 印台区数字金融服务平台 — the commands in README.md.
PY      := .venv/bin/python
VENV_OK := .venv/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000
# `make test` runs every database test on SQLite and on this PostgreSQL.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# … and the rate-limit and job tests on this Redis (its database 15 is emptied by them).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist processes (one per core of CI's 2-core machine; 0 runs the suite in this process). Worker gwN
# uses the database <name>_gwN (created when missing) and the Redis database 15 − N: tests/conftest.py.
TEST_WORKERS ?= 2
# The demo district: generated once, then loaded through the ingestion path.
DEMO_DISTRICT ?= instance/demo-district
# 6,000 firms with 60 months of records (seed 7): enough loans for the demo's own model to beat its WOE
# baseline (3,000 firms × 48 months gave AUC 0.590 against the baseline's 0.611, and activation now
# refuses a version that loses to its baseline; measured in docs/model.md).
DEMO_FIRMS    ?= 6000
DEMO_HISTORY  ?= 60
DEMO_SEED     ?= 7
DEMO_MONTHS   ?= 24
FLASK         := $(PY) -m flask --app app

.PHONY: setup demo demo-data serve worker test browser lint translations extract-messages bench clean

$(VENV_OK): requirements.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(VENV_OK)

setup: $(VENV_OK) translations

translations: $(VENV_OK)
	.venv/bin/pybabel compile -d app/translations -f --statistics

extract-messages: $(VENV_OK)
	.venv/bin/pybabel extract -F app/translations/babel.cfg -k _l -o app/translations/messages.pot --no-location --sort-output .
	.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

demo: setup demo-data
	@echo "打开 / open http://$(HOST):$(PORT)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production on one machine (docs/deploy.md): PostgreSQL, Redis, gunicorn's workers on BIND and the job
# worker, in the foreground (Ctrl-C, or SIGTERM to the process group, stops both). The database is
# created when missing and migrated; the metrics folder of gunicorn's processes is emptied at each start;
# without SECRET_KEY in the environment, a random one kept in instance/secret-key signs the sessions, and
# without ID_HASH_KEY one kept in instance/id-hash-key keys the stored ID-number hashes.
serve worker: DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/yintai
serve worker: REDIS_URL ?= redis://127.0.0.1:6379/0
serve worker: RATELIMIT_STORAGE_URI ?= $(REDIS_URL)
BIND         ?= 127.0.0.1:8000
METRICS_DIR  ?= instance/prometheus
SERVE_ENV = DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) RATELIMIT_STORAGE_URI=$(RATELIMIT_STORAGE_URI) \
  JOBS_BACKEND=rq BIND=$(BIND) PROMETHEUS_MULTIPROC_DIR=$(abspath $(METRICS_DIR)) OMP_NUM_THREADS=1 SCORING_THREADS=1

serve: setup
	@rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	@test -s instance/secret-key || (umask 077 && $(PY) -c "import secrets; print(secrets.token_hex(32))" > instance/secret-key)
	@test -s instance/id-hash-key || (umask 077 && $(PY) -c "import secrets; print(secrets.token_hex(32))" > instance/id-hash-key)
	@$(SERVE_ENV) $(PY) -c "from app.serving import ensure_database as e; e('$(DATABASE_URL)') and print('created', '$(DATABASE_URL)')"
	$(SERVE_ENV) $(FLASK) db upgrade
	@echo "打开 / open http://$(BIND)  (就绪 / ready: http://$(BIND)/readyz)"
	@export SECRET_KEY="$${SECRET_KEY:-$$(cat instance/secret-key)}" ID_HASH_KEY="$${ID_HASH_KEY:-$$(cat instance/id-hash-key)}"; $(SERVE_ENV) bash -c 'trap "kill -TERM \$$web \$$jobs 2>/dev/null" INT TERM; \
	  $(FLASK) jobs worker & jobs=$$!; \
	  .venv/bin/gunicorn -c python:app.gunicorn_conf "app:create_app()" & web=$$!; \
	  wait -n $$web $$jobs; status=$$?; kill -TERM $$web $$jobs 2>/dev/null; wait; exit $$status'

# The job worker alone (another machine, or more of them beside `make serve`).
worker: setup
	@mkdir -p $(METRICS_DIR)
	$(SERVE_ENV) $(FLASK) jobs worker

# Schema by migrations; the generated district through ingestion; logins, products and needs;
# scores for all: by the active model, or else (the database says none is active) activated by the
# demo's platform admin, which re-scores everyone: the newest registered version, or one trained
# on the district when models/ has none; then DEMO_MONTHS of market replayed up to now (a second
# run adds only the time since the first).
demo-data: setup
	$(FLASK) db upgrade
	@test -f $(DEMO_DISTRICT)/_truth/loans.csv || \
	  $(PY) -m training.synth --firms $(DEMO_FIRMS) --seed $(DEMO_SEED) --months $(DEMO_HISTORY) --out $(DEMO_DISTRICT)
	@mkdir -p instance && $(FLASK) data ingest $(DEMO_DISTRICT) > instance/demo-ingest.json && \
	  $(PY) -c "import json; s=json.loads(open('instance/demo-ingest.json').read().splitlines()[-1]); print('载入 / ingest:', s['totals'])"
	$(FLASK) platform demo
	@if $(FLASK) models list | grep -q '^\*'; then $(FLASK) scores refresh; else \
	  version=$$($(FLASK) models list | tail -n 1 | cut -c3-) && \
	  { test -n "$$version" || version=$$($(PY) -m training.train --data $(DEMO_DISTRICT) --out models | tail -n 1 | \
	      $(PY) -c "import json, sys; print(json.load(sys.stdin)['version'])"); } && \
	  $(FLASK) models activate $$version --by platform --reason "演示环境初始模型 / model of the demo setup"; fi
	$(FLASK) market simulate --months $(DEMO_MONTHS) --truth $(DEMO_DISTRICT)/_truth/firms.csv > instance/demo-market.json && \
	  $(PY) -c "import json; s=json.loads(open('instance/demo-market.json').read().splitlines()[-1]); \
	  print('市场 / market:', s['applications'], s['loans'])"

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser);
# the CJK fonts make Chinese render in screenshots; poppler-utils gives pdftotext, which reads the report PDF
# back in its browser test. Installed when missing (needs root, as in CI).
browser:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk" || { \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -q && \
	  apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-noto-cjk poppler-utils; } || \
	  echo "chromium could not be installed: the browser tests will be skipped (and fail in CI)"

test: setup browser
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest tests -q -p no:cacheprovider \
	  -n $(TEST_WORKERS) --durations=30

lint: $(VENV_OK)
	$(PY) -m ruff check .

# Every benchmark module; BENCH_ARGS=--quick for the small sizes.
bench: setup
	@for f in benchmarks/[a-z]*.py; do m=$$(basename $$f .py); echo "== benchmarks.$$m"; \
	  $(PY) -m benchmarks.$$m $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf .venv instance .pytest_cache .ruff_cache
