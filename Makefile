# Pyeonji: every target sets itself up on a fresh machine (idempotently).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEV    := $(VENV)/.dev-stamp
MO     := bot/locales/ko/LC_MESSAGES/bot.mo bot/locales/en/LC_MESSAGES/bot.mo
KEYWORDS := -k texts -k plain -k N_ -k ngettext:1,2

.PHONY: install setup test lint typecheck pytest run demo messages catalogs fonts migrate clean

# What the bot needs to run from a checkout (editable); `setup` adds the dev tools and the fake
# Bot API's extra. The Dockerfile builds a wheel instead (the same catalogs and migrations).
install: $(STAMP) catalogs fonts

setup: install $(DEV)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(DEV): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV)

# Compiled catalogs are built, never committed.
catalogs: $(STAMP)
	$(VENV)/bin/pybabel compile --domain bot --directory bot/locales --statistics

# Extract every translatable string and merge it into both catalogs (then translate them).
messages: $(DEV)
	$(VENV)/bin/pybabel extract --mapping babel.cfg --no-default-keywords $(KEYWORDS) \
	    --sort-by-file --no-wrap --project Pyeonji --copyright-holder "Pyeonji developers" \
	    --msgid-bugs-address "" --output-file bot/locales/bot.pot .
	$(VENV)/bin/pybabel update --domain bot --input-file bot/locales/bot.pot \
	    --output-dir bot/locales --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(MAKE) catalogs

# The letter bundle prints every character the bot accepts (bot/services/fonts.py): Hangul,
# colour emoji (fpdf2 draws CBDT), Hanja and old Hangul, Cyrillic, Arabic and combining marks,
# symbols. poppler-utils turns a page into the README's sample image (tests/test_bundle_pdf.py).
FONT_PACKAGES := fonts-nanum fonts-noto-color-emoji fonts-noto-cjk fonts-dejavu-core \
	fonts-symbola poppler-utils
FONT_FILES := /usr/share/fonts/truetype/nanum/NanumGothic.ttf \
	/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf \
	/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf

fonts:
	@if ls $(FONT_FILES) >/dev/null 2>&1 && command -v pdftoppm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq --no-install-recommends $(FONT_PACKAGES) >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && \
	      apt-get install -y -qq --no-install-recommends $(FONT_PACKAGES) >/dev/null)) \
	    && echo "installed $(FONT_PACKAGES)"; \
	else echo "note: some bundle fonts are missing; install $(FONT_PACKAGES)"; fi

lint: $(DEV)
	$(VENV)/bin/ruff check bot fakebotapi tests benchmarks
	$(VENV)/bin/ruff format --check bot fakebotapi tests benchmarks
	$(VENV)/bin/hadolint Dockerfile

typecheck: $(DEV)
	$(VENV)/bin/mypy

pytest: setup
	$(VENV)/bin/pytest

test: setup lint typecheck pytest

run: install
	$(PY) -m bot run

migrate: install
	$(PY) -m bot migrate

demo: setup
	$(PY) -m bot.demo

clean:
	rm -rf $(VENV) bot/locales/*/LC_MESSAGES/*.mo .pytest_cache .mypy_cache .ruff_cache
