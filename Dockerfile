# Pyeonji in a container: the same `make install` as a developer's machine and CI.
FROM python:3.11-slim

# make for the set-up; the fonts the letter bundles (PDF) print every accepted character with,
# the same list as the Makefile's FONT_PACKAGES (poppler-utils is only for tests, left out).
RUN apt-get update \
 && apt-get install -y --no-install-recommends make fonts-nanum fonts-noto-color-emoji \
    fonts-noto-cjk fonts-dejavu-core fonts-symbola \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN make install VENV=/opt/venv PYTHON=python3 \
 && useradd --system --uid 10001 --home-dir /data pyeonji \
 && mkdir -p /data && chown pyeonji /data

# WEBHOOK_LISTEN: in a container the TLS proxy comes through the container's network.
ENV PATH=/opt/venv/bin:$PATH \
    DATABASE_PATH=/data/pyeonji.sqlite3 \
    WEBHOOK_LISTEN=0.0.0.0 \
    PYTHONUNBUFFERED=1
USER 10001
VOLUME /data
# Webhook mode only (WEBHOOK_URL set): put a TLS proxy in front of this port.
EXPOSE 8443
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s CMD ["python", "-m", "bot", "health"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
