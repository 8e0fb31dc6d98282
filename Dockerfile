# Pyeonji in a container: the bot installed from its wheel, nothing else from the checkout
# (no tests, benchmarks, fake Bot API or docs).

# Build: compile the catalogs into bot/locales, then build the wheel; they and bot/migrations
# ship inside the `bot` package (pyproject.toml's package-data).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --no-cache-dir "Babel>=2.14" \
 && /opt/build/bin/pybabel compile --domain bot --directory bot/locales --statistics \
 && /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim

# The fonts the letter bundles (PDF) print every accepted character with, the same list as the
# Makefile's FONT_PACKAGES (poppler-utils is only for tests, left out).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-nanum fonts-noto-color-emoji \
    fonts-noto-cjk fonts-dejavu-core fonts-symbola \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /wheels /wheels
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir /wheels/*.whl \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data pyeonji \
 && mkdir -p /data && chown pyeonji /data

# WEBHOOK_LISTEN: in a container the TLS proxy comes through the container's network.
ENV PATH=/opt/venv/bin:$PATH \
    DATABASE_PATH=/data/pyeonji.sqlite3 \
    WEBHOOK_LISTEN=0.0.0.0 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
VOLUME /data
# Webhook mode only (WEBHOOK_URL set): put a TLS proxy in front of this port.
EXPOSE 8443
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s CMD ["python", "-m", "bot", "health"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
