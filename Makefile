# PCN desk task runner. The two commands of the README: `make run`, `make test`.
PY := .venv/bin/python
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test setup setup-dev lint sync train migrate serve validate eval bench lock clean

run: setup            ## the demo: set up if needed, migrate, train if data changed, start the whole desk
	$(PY) -m bot.launcher

test: setup-dev       ## set up if needed, lint, train, run every test (what CI runs)
	$(PY) -m ruff check --no-cache .
	$(PY) -m bot.train
	$(PY) -m pytest

setup:                ## runtime packages only
	scripts/setup.sh

setup-dev:            ## runtime + test and lint packages, Chromium and nginx
	scripts/setup.sh --dev --system

lint: setup-dev       ## ruff (pyflakes, syntax, bugbear basics: pyproject.toml)
	$(PY) -m ruff check --no-cache .

sync: setup           ## regenerate Rasa's files derived from content/answers (then review and commit them)
	$(PY) scripts/sync_questions.py

train: setup          ## train only when nlu_data/, domain/ or config.yml changed (refuses stale generated files)
	$(PY) -m bot.train

migrate: setup        ## production: bring the database (PCN_DATABASE_URL) to the latest migration
	$(PY) -m db upgrade

serve: setup          ## production: supervise the services; never trains nor migrates (see README)
	$(PY) -m bot.serve

validate: setup
	$(PY) scripts/sync_questions.py --check
	$(PY) -m rasa data validate --data nlu_data --domain domain --config config.yml

eval: train           ## held-out NLU evaluation -> bench/RESULTS.md
	$(PY) bench/eval_nlu.py

bench: train          ## latency / throughput / memory -> bench/RESULTS.md
	$(PY) bench/bench_latency.py

lock:                 ## refreeze constraints.txt after changing requirements*.txt
	$(PY) -m pip freeze --all --exclude-editable | grep -v '^pip==' > constraints.txt

clean:
	rm -rf models results .rasa build *.egg-info
