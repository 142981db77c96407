# wadows: WADO-WS (IHE RAD-69) in front of a DICOMweb archive. Used by docker-compose.yml; see deploy/.
FROM python:3.13.0-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WADOWS_CONFIG_DIR=/var/lib/wadows \
    WADOWS_CACHE_DIR=/var/lib/wadows/cache

# openssl: the one-shot tls-init service makes the self-signed certificate nginx starts with.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
# requests: the DICOMweb backend's HTTP client.
RUN pip install . "requests>=2.31,<3" \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/wadows --shell /usr/sbin/nologin wadows \
 && mkdir -p /var/lib/wadows/cache /etc/wadows/tls \
 && chown -R wadows:wadows /var/lib/wadows /etc/wadows/tls \
 && chmod 0700 /var/lib/wadows

COPY deploy/wadows.toml /etc/wadows/wadows.toml
COPY deploy/tls/make-cert.sh deploy/load_samples.py /usr/local/share/wadows/

USER wadows
WORKDIR /var/lib/wadows
EXPOSE 8080

# Liveness of the service itself; /healthz also reports the archive's reachability in its body.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

CMD ["wadows", "serve", "--config", "/etc/wadows/wadows.toml", "--host", "0.0.0.0", "--port", "8080"]
