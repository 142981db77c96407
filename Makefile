# Every target bootstraps .venv itself, so a fresh clone needs only `make run` or `make test`.
# The newest supported CPython found (tools/find-python: 3.13, 3.12, 3.11); PYTHON=... overrides.
PYTHON ?= $(shell tools/find-python || command -v python3)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The stamp names the interpreter, so another PYTHON rebuilds the venv instead of reusing it.
STAMP  := $(VENV)/.installed-$(PYVER)
# In CI the fast part of the suite also runs on the other supported versions found here.
OTHER_PYTHONS = $(shell tools/find-python --all | grep -v "^$(PYVER) " | tr ' ' '=')
FAST_SUITE := -m "not slow and not tools" --ignore=tests/interop --ignore=tests/realdata --ignore=tests/bench

# Debian packages the tests and benches use; installed only when missing and we are root.
APT_PACKAGES ?= dicom3tools dcmtk jing trang tesseract-ocr libgdcm-tools nginx-light jaxws default-jdk-headless gsoap libgsoap-dev \
                orthanc orthanc-dicomweb docker-compose openssl wrk fonts-dejavu-core rsyslog rsyslog-gnutls

.PHONY: run test test-other-pythons bench venv sysdeps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 14), "wadows needs Python 3.11 to 3.13, not %s (set PYTHON=...)" % sys.version.split()[0]'
	@if [ -d $(VENV) ] && [ ! -e $(STAMP) ]; then rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends $$missing >/dev/null)); \
	  else echo "not root: skipping Debian packages$$missing (tests needing them will skip)"; fi; \
	fi

run: $(STAMP)
	$(VENV)/bin/wadows serve

# node-soap for tests/interop (package-lock.json pins it); without npm those tests skip and say why.
interop-deps:
	@if command -v npm >/dev/null 2>&1; then \
	  [ tests/interop/node/node_modules/.package-lock.json -nt tests/interop/node/package-lock.json ] || \
	  npm ci --prefix tests/interop/node --no-audit --no-fund --loglevel=error || \
	  echo "npm ci failed: node-soap tests will skip (fail when CI=true)"; \
	else echo "npm not found: skipping node-soap (tests/interop will say so)"; fi

# The main suite runs in TEST_WORKERS pytest processes (pytest-xdist); --dist loadscope keeps each test
# module in one process, so a module's fixtures (toolkit builds, Orthanc, large stores) are made once.
# Each process captures its own tests' output, as a single one does. With CI=true the other versions'
# fast suites run at the same time, niced: much of the main suite waits on servers, clients and timers.
TEST_WORKERS ?= 2

test: $(STAMP) sysdeps interop-deps
	@other=""; if [ "$${CI:-}" = true ]; then \
	  nice -n 10 $(MAKE) --no-print-directory test-other-pythons > .test-other-pythons.log 2>&1 & other=$$!; \
	fi; \
	status=0; $(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope || status=$$?; \
	if [ -n "$$other" ]; then wait $$other || status=1; cat .test-other-pythons.log; fi; \
	exit $$status

# The fast part of the suite (no toolkit builds, no slow marker) on each other supported CPython,
# in its own venv (.venv-3.12, ...): spyne's import shim and the libraries' wheels differ by version.
# The versions run side by side (one core each here); each one's output is printed when all are done.
test-other-pythons:
	@pids=""; for pair in $(OTHER_PYTHONS); do \
	  ver=$${pair%%=*}; python=$${pair#*=}; venv=.venv-$$ver; \
	  ( set -e; \
	    if [ ! -e $$venv/.installed ] || [ pyproject.toml -nt $$venv/.installed ]; then \
	      rm -rf $$venv; $$python -m venv $$venv; \
	      $$venv/bin/python -m pip install -q --upgrade pip; \
	      $$venv/bin/python -m pip install -q -e '.[test]'; touch $$venv/.installed; \
	    fi; \
	    $$venv/bin/python -m pytest -q $(FAST_SUITE) -p no:cacheprovider ) > .test-$$ver.log 2>&1 & \
	  pids="$$pids $$!:$$ver"; \
	done; \
	status=0; for p in $$pids; do \
	  ver=$${p#*:}; if wait $${p%%:*}; then r=passed; else r=FAILED; status=1; fi; \
	  echo "== Python $$ver, fast suite: $$r"; tail -n 15 .test-$$ver.log; \
	done; exit $$status

bench: $(STAMP) sysdeps
	$(PY) bench/run.py
	$(PY) bench/request_cost.py
	$(PY) bench/request_cost.py --anonymize
	$(PY) bench/deid.py
	$(PY) bench/ocr.py
	$(PY) bench/anon_w1.py
	$(PY) bench/orthanc.py
	$(PY) bench/rendered.py
	$(PY) bench/docinfo.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .venv-3.* .test-3.*.log .test-other-pythons.log build dist service/*.egg-info .pytest_cache
