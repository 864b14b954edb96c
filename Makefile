# 印台区数字金融服务平台 — the commands in README.md.
PY      := .venv/bin/python
VENV_OK := .venv/.installed
HOST    ?= 127.0.0.1
PORT    ?= 5000
# `make test` runs every database test on SQLite and on this PostgreSQL.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: setup demo serve test lint translations extract-messages bench clean

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
	.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

demo: setup
	$(PY) -m flask --app app db upgrade
	$(PY) -m flask --app app platform demo
	@echo "打开 / open http://$(HOST):$(PORT)"
	$(PY) -m flask --app app run --host $(HOST) --port $(PORT)

test: setup
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest tests -q -p no:cacheprovider

lint: $(VENV_OK)
	$(PY) -m ruff check .

clean:
	rm -rf .venv instance .pytest_cache .ruff_cache
