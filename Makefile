# Every target bootstraps .venv itself, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Debian packages the tests and benches use; installed only when missing and we are root.
APT_PACKAGES ?= dicom3tools dcmtk jing trang tesseract-ocr libgdcm-tools nginx-light jaxws default-jdk-headless gsoap libgsoap-dev \
                orthanc orthanc-dicomweb docker-compose openssl wrk fonts-dejavu-core rsyslog rsyslog-gnutls

.PHONY: run test bench venv sysdeps clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "wadows needs Python 3.11 (spyne does not import on 3.12+)"'
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

test: $(STAMP) sysdeps interop-deps
	$(PY) -m pytest

bench: $(STAMP) sysdeps
	$(PY) bench/run.py
	$(PY) bench/request_cost.py
	$(PY) bench/request_cost.py --anonymize
	$(PY) bench/deid.py
	$(PY) bench/ocr.py
	$(PY) bench/orthanc.py
	$(PY) bench/rendered.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) build dist service/*.egg-info .pytest_cache
