# PCN desk task runner. The two commands of the README: `make run`, `make test`.
PY := .venv/bin/python
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test setup train validate eval bench lock clean

run: setup            ## set up if needed, train if data changed, start the whole desk
	$(PY) -m bot.launcher

test: setup           ## set up if needed and run every test (what CI runs)
	scripts/setup.sh --browser
	$(PY) -m bot.train
	$(PY) -m pytest

setup:
	scripts/setup.sh

train: setup          ## train only when nlu_data/, domain.yml or config.yml changed
	$(PY) -m bot.train

validate: setup
	$(PY) scripts/sync_questions.py --check
	$(PY) -m rasa data validate --data nlu_data --domain domain.yml --config config.yml

eval: train           ## held-out NLU evaluation -> bench/RESULTS.md
	$(PY) bench/eval_nlu.py

bench: train          ## latency / throughput / memory -> bench/RESULTS.md
	$(PY) bench/bench_latency.py

lock:                 ## refreeze constraints.txt after changing requirements.txt
	$(PY) -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf models results .rasa
