# carafe — build, run, test. See README.md.
#
# PYTHON picks the interpreter carafe embeds; the test venv is built from the
# same one so that compiled wheels match the libpython we link.

PYTHON  ?= python3
PYEXE   := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
VENV    ?= .venv
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# static: libpython.a where the interpreter has one (see scripts/pyflags.py)
CARAFE_PYLINK ?= static
PYFLAGS := $(shell CARAFE_PYLINK=$(CARAFE_PYLINK) $(PYEXE) scripts/pyflags.py 2>/dev/null)

export CGO_ENABLED := 1
export CGO_CFLAGS  := $(word 1,$(PYFLAGS)) -O2
export CGO_LDFLAGS := $(wordlist 2,99,$(PYFLAGS))
export CARAFE_BIN  := $(CURDIR)/bin/carafe
export CARAFE_VENV := $(CURDIR)/$(VENV)

GOFILES := $(shell find . -name '*.go' -not -path './.venv/*' 2>/dev/null)
CFILES  := $(wildcard internal/pyembed/*.c internal/pyembed/*.h)

.PHONY: all build run test unit integration checked lint fuzz deps venv clean bench compat

all: build

deps:
	@scripts/deps.sh "$(PYTHON)"

build: bin/carafe

bin/carafe: deps $(GOFILES) $(CFILES) go.mod
	@test -n "$(PYFLAGS)" || { echo "carafe: cannot read build flags from $(PYTHON); is it a CPython 3.10+ with its headers?" >&2; exit 1; }
	$(GO) build -trimpath -ldflags "-X carafe/internal/pyembed.defaultExecutable=$(PYEXE) -X main.version=$(VERSION)" -o $@ ./cmd/carafe

venv: $(VENV)/.stamp

$(VENV)/.stamp: requirements.txt
	$(PYEXE) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --requirement requirements.txt
	@touch $@

run: build venv
	bin/carafe --http 127.0.0.1:8000 --virtualenv $(CURDIR)/$(VENV) --chdir examples/flaskapp --module app:app

lint:
	@out=$$(gofmt -l $(GOFILES)); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...
	@if command -v clang-format >/dev/null; then \
		for f in $(CFILES); do clang-format --style=file:internal/pyembed/.clang-format $$f | cmp -s - $$f \
			|| { echo "clang-format needed: $$f"; exit 1; }; done; fi

unit:
	$(GO) test -count=1 ./internal/... ./cmd/... ./bench/...
	$(GO) test -count=1 -race ./internal/...

fuzz:
	@scripts/fuzz.sh 60000x

# The deployment tests (tests/deploy_*) run the real nginx and Apache
# (mod_proxy_uwsgi ships in apache2-bin), and systemd's own tools
# (systemd-analyze, systemd-socket-activate): installed here when missing.
integration: build venv
	@CARAFE_DEBS="nginx apache2 systemd" scripts/deps.sh "$(PYTHON)"
	$(GO) test -count=1 -timeout 20m ./tests/...

# The race detector and cgocheck2 on the real binary, under the
# integration tests that exercise the C bridge hardest, and those where a
# watchdog's goroutine acts on a request in flight (harakiri, shedding,
# cheaper's retiring, the accept loop held back for the threads).
checked: bin/carafe venv
	GOEXPERIMENT=cgocheck2 $(GO) build -race -o bin/carafe-checked ./cmd/carafe
	CARAFE_BIN=$(CURDIR)/bin/carafe-checked $(GO) test -count=1 -timeout 10m \
		-run 'TestWSGI|TestHTTPBigStreams|TestHTTPStalled|TestHTTPKeepAlive|TestHTTPPipelining|TestHTTPChunked|TestApp|TestMasterHarakiri$$|TestMasterHarakiri(AfterHeaders|LogsWhatWentOut|OneThread)|TestMasterShed|TestMasterCheaper|TestMasterBurst' ./tests/...

test: build venv lint unit fuzz integration checked

# Another interpreter, checked in a few minutes (make test does not run it):
# make compat PYTHON=/usr/bin/python3.13 builds carafe against it, with a
# venv of its own, under COMPAT_DIR, and runs the bridge's unit tests and
# the integration tests that drive Python hardest.
COMPAT_DIR ?= /tmp/carafe-compat/$(shell $(PYEXE) -c 'import sys; print("py%d.%d" % sys.version_info[:2])')
COMPAT_RUN ?= TestWSGI|TestApp|TestSIGTERM|TestStartupError|TestMasterHarakiri$$|TestMasterSIGUSR2Stacks|TestHTTPThreads|TestXSendfile

compat:
	@test -n "$(PYFLAGS)" || { echo "carafe: cannot read build flags from $(PYTHON); is it a CPython 3.10+ with its headers?" >&2; exit 1; }
	$(GO) build -trimpath -ldflags "-X carafe/internal/pyembed.defaultExecutable=$(PYEXE)" -o $(COMPAT_DIR)/carafe ./cmd/carafe
	test -f $(COMPAT_DIR)/venv/.stamp || { $(PYEXE) -m venv $(COMPAT_DIR)/venv && \
		$(COMPAT_DIR)/venv/bin/pip install --quiet --requirement requirements.txt && touch $(COMPAT_DIR)/venv/.stamp; }
	$(GO) test -count=1 ./internal/pyembed/
	CARAFE_BIN=$(COMPAT_DIR)/carafe CARAFE_VENV=$(COMPAT_DIR)/venv $(GO) test -count=1 -timeout 15m -run '$(COMPAT_RUN)' ./tests/

# The side-by-side benchmark (docs/benchmarks.md): installs wrk, nginx and
# uWSGI when missing (as root), then runs bench/cmd/bench. Every server
# runs on ONE interpreter, BENCH_PYTHON: by default Debian's python3, the
# one Debian's uWSGI python3 plugin embeds, so carafe is built against it
# for the run (bin/carafe-bench) and the peers' venv .bench-venv is made
# from it. BENCH_QUICK=1: a few minutes.
BENCH_PYTHON ?= /usr/bin/python3

bench: deps
	@CARAFE_DEBS="python3-dev python3-venv" scripts/deps.sh "$(BENCH_PYTHON)"
	flags=$$($(BENCH_PYTHON) scripts/pyflags.py) && exe=$$($(BENCH_PYTHON) -c 'import sys; print(sys.executable)') && \
	CGO_CFLAGS="$${flags%% *} -O2" CGO_LDFLAGS="$${flags#* }" $(GO) build -trimpath \
		-ldflags "-X carafe/internal/pyembed.defaultExecutable=$$exe -X main.version=$(VERSION)" \
		-o bin/carafe-bench ./cmd/carafe
	$(GO) run ./bench/cmd/bench -python $(BENCH_PYTHON) -carafe $(CURDIR)/bin/carafe-bench -venv $(CURDIR)/.bench-venv

clean:
	rm -rf bin $(VENV) .bench-venv
