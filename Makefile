# accel-top. `make` builds ./accel-top; `make run` and `make test` first install what is missing.
# SANITIZE=1 builds everything with AddressSanitizer + UBSan into build-san/ (binary build-san/accel-top).

CC      ?= cc
PKGS    := libwebsockets libuv libcjson sqlite3 ncursesw libssl libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifeq ($(SANITIZE),1)
BUILD   := build-san
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
BIN     := $(BUILD)/accel-top
else
BUILD   := build
BIN     := accel-top
endif

# One source file a line, grouped by room (ARCHITECTURE.md), so that parallel work merges cleanly.
CORE_SRC := \
	pool/ac.c pool/event.c pool/pool.c pool/apply_browser.c pool/apply_work.c pool/apply_breaker.c \
	pool/workloads.c pool/index.c pool/apply_grid.c pool/caps.c pool/family.c pool/tensor.c pool/catalog.c pool/audio.c pool/inputs.c \
	pool/onnx.c pool/infer.c \
	pool/store.c pool/tune.c pool/journal.c pool/journal_codec.c pool/checkpoint.c pool/checkpoint_check.c \
	pool/launcher.c pool/supervisor.c pool/procstat.c pool/grid.c pool/grid_parse.c \
	pool/sched/core.c pool/sched/placement.c pool/sched/breaker.c pool/sched/verify.c pool/sched/shards.c \
	pool/sched/workloads.c pool/sched/wire.c pool/sched/submit.c \
	bridge/proto.c bridge/bridge.c bridge/admission.c bridge/replies.c bridge/probe.c \
	bridge/origins.c bridge/metrics_http.c bridge/http_client.c bridge/tls.c \
	tui/options.c tui/cmd/optdesc.c tui/snapshot.c tui/app.c tui/app_actions.c tui/app_grid.c tui/app_forget.c tui/app_tls.c tui/tuner.c tui/optaudio.c \
	tui/format.c tui/format_detail.c tui/format_shard.c tui/columns.c tui/columns_browser.c tui/columns_model.c \
	tui/layout.c tui/replay.c tui/usage.c tui/metrics.c
MAIN_SRC := \
	tui/cmd/main.c tui/cmd/commands.c \
	tui/cmd/bench_cmd.c tui/cmd/bench_run.c \
	tui/cmd/tune_cmd.c tui/cmd/tune_args.c \
	tui/cmd/report_cmd.c \
	tui/cmd/models_cmd.c \
	tui/cmd/serve_cmd.c tui/cmd/serve_json.c \
	tui/cmd/doctor_cmd.c tui/cmd/doctor_models.c tui/cmd/doctor_plan.c tui/cmd/doctor_checks.c \
	tui/screen.c tui/screen_rows.c tui/keys.c tui/keys_modal.c
TEST_SRC := $(wildcard tests/unit/test-*.c) tests/unit/fake-sched-io.c tests/unit/sched-harness.c tests/unit/journal-harness.c tests/unit/runner.c
BENCH_SRC := bench/roundtrip.c bench/overhead.c bench/replay.c bench/loadgen.c

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)

.PHONY: all deps run test unit e2e fuzz fuzz-smoke bench clean check-deps models gpu-bundle chromium-shell

all: $(BIN) models chromium-shell

# Chromium's headless shell with WebNN (browser family chromium-shell), unpacked from npm
# @sparticuz/chromium (installed by make deps) with Debian's brotli; nothing when that package is
# absent. Only chromium.br and swiftshader.tar.br are needed: al2023.tar.br holds Amazon Linux's
# NSS and expat (Debian has its own) and fonts.tar.br a fonts.conf for Lambda.
SHELL_NPM   := browser-js/node_modules/@sparticuz/chromium/bin
SHELL_STAMP := build/chromium-shell/.stamp
chromium-shell: $(if $(wildcard $(SHELL_NPM)/chromium.br),$(SHELL_STAMP))

$(SHELL_STAMP): $(SHELL_NPM)/chromium.br $(SHELL_NPM)/swiftshader.tar.br
	@rm -rf build/chromium-shell && mkdir -p build/chromium-shell
	brotli -d -c $(SHELL_NPM)/chromium.br > build/chromium-shell/chromium.tmp
	chmod 755 build/chromium-shell/chromium.tmp && mv build/chromium-shell/chromium.tmp build/chromium-shell/chromium
	brotli -d -c $(SHELL_NPM)/swiftshader.tar.br | tar -x -C build/chromium-shell -f -
	@touch $@

# Demo models (generated with fixed seeds, plus Silero VAD from npm) and espeak-ng speech: data
# for the audio models. Built, never downloaded.
MODELS_STAMP := build/models/.stamp
SPEECH_WAV   := build/audio/speech.wav
models: $(MODELS_STAMP) $(SPEECH_WAV)

$(MODELS_STAMP): models/gen.py models/dropin.py browser-js/package-lock.json
	/usr/bin/python3 models/gen.py --out build/models
	@touch $@

$(SPEECH_WAV):
	@mkdir -p $(dir $@)
	espeak-ng -v en-us -s 140 -w $@ "The quick brown fox jumps over the lazy dog. Accel top measures where every model really ran."

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BIN): $(CORE_OBJ) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit-tests: $(CORE_OBJ) $(TEST_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench-%: $(CORE_OBJ) $(BUILD)/bench/%.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer targets for the protocol decoder and the recording reader: always clang, always with
# ASan + UBSan (scripts/fuzz.sh runs both).
FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
build-fuzz/fuzz-proto: tests/fuzz/fuzz-proto.c bridge/proto.c bridge/proto.h pool/tensor.c pool/tensor.h
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz-proto.c bridge/proto.c pool/tensor.c $(PKG_LIBS) -lm
FUZZ_JOURNAL_SRC := pool/ac.c pool/event.c pool/pool.c pool/apply_browser.c pool/apply_work.c pool/apply_breaker.c \
	pool/workloads.c pool/index.c pool/apply_grid.c pool/caps.c pool/family.c pool/tensor.c pool/journal.c pool/journal_codec.c pool/checkpoint.c \
	pool/checkpoint_check.c
build-fuzz/fuzz-journal: tests/fuzz/fuzz-journal.c $(FUZZ_JOURNAL_SRC) $(wildcard pool/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz-journal.c $(FUZZ_JOURNAL_SRC) $(PKG_LIBS) -lm
# the checkpoint loader, with the snapshot readers a replay's screen uses; ck-seeds writes its
# seeds (real checkpoints of this build, from the fixture recording), so it is built plainly
FUZZ_CK_SRC := $(FUZZ_JOURNAL_SRC) tui/snapshot.c tui/format.c tui/format_detail.c tui/format_shard.c tui/columns.c \
	tui/columns_browser.c tui/columns_model.c
build-fuzz/fuzz-checkpoint: tests/fuzz/fuzz-checkpoint.c $(FUZZ_CK_SRC) $(wildcard pool/*.h tui/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz-checkpoint.c $(FUZZ_CK_SRC) $(PKG_LIBS) -lm
build-fuzz/ck-seeds: tests/fuzz/ck-seeds.c $(FUZZ_JOURNAL_SRC) $(wildcard pool/*.h)
	@mkdir -p build-fuzz
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(PKG_CFLAGS) -o $@ tests/fuzz/ck-seeds.c $(FUZZ_JOURNAL_SRC) $(PKG_LIBS) -lm

# Installs missing Debian packages and the npm packages (idempotent; quick when all is there).
deps:
	@scripts/deps.sh

# `run` and `test` set up first, but only call deps.sh when something is missing (it checks fast).
run: deps
	@$(MAKE) --no-print-directory all
	./$(BIN)

unit: $(BUILD)/unit-tests
	./$(BUILD)/unit-tests

fuzz-smoke: build-fuzz/fuzz-proto build-fuzz/fuzz-journal build-fuzz/fuzz-checkpoint build-fuzz/ck-seeds
	@scripts/fuzz.sh smoke

fuzz: build-fuzz/fuzz-proto build-fuzz/fuzz-journal build-fuzz/fuzz-checkpoint build-fuzz/ck-seeds
	@scripts/fuzz.sh long

# one end-to-end suite by name: make e2e SUITE=faults (e2e, remote, tls, models, replay, faults, doctor, ...)
SUITE ?= e2e
e2e: $(BIN) models chromium-shell $(BUILD)/bench-loadgen
	@ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) LOADGEN=$(abspath $(BUILD)/bench-loadgen) /usr/bin/python3 tests/e2e/test_$(SUITE).py

test: deps
	@$(MAKE) --no-print-directory $(BIN) models chromium-shell $(BUILD)/unit-tests build-fuzz/fuzz-proto build-fuzz/fuzz-journal build-fuzz/fuzz-checkpoint build-fuzz/ck-seeds $(BUILD)/bench-loadgen
	@ACCEL_TOP=$(abspath $(BIN)) UNIT=$(abspath $(BUILD)/unit-tests) LOADGEN=$(abspath $(BUILD)/bench-loadgen) ACCEL_TOP_DATA=$(CURDIR) tests/run-all.sh

bench: $(BUILD)/bench-roundtrip $(BUILD)/bench-lws_echo $(BUILD)/bench-overhead $(BUILD)/bench-replay $(BUILD)/bench-loadgen models
	ACCEL_TOP_DATA=$(CURDIR) ./$(BUILD)/bench-roundtrip
	ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) ROUNDTRIP=$(abspath $(BUILD)/bench-roundtrip) LWS_ECHO=$(abspath $(BUILD)/bench-lws_echo) /usr/bin/python3 bench/seed_baseline.py
	ACCEL_TOP_DATA=$(CURDIR) ./$(BUILD)/bench-overhead
	ACCEL_TOP_DATA=$(CURDIR) ./$(BUILD)/bench-replay
	bench/tui-cost.sh
	ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) /usr/bin/python3 bench/faults.py
	ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) bench/shard.sh
	bench/tune.sh
	ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) /usr/bin/python3 bench/grid.py
	ACCEL_TOP=$(abspath $(BIN)) ACCEL_TOP_DATA=$(CURDIR) LOADGEN=$(abspath $(BUILD)/bench-loadgen) /usr/bin/python3 bench/load.py

# accel-top, its page, runtime and models, and Firefox in parts of <= 61 MB for the GPU machine
# (bench/README.md). GPU_BUNDLE_BASE=REV also packs the page as committed at REV, for a before/after;
# GPU_BUNDLE_LANES="1 8 16" copies of the page with fixed lane counts; GPU_BUNDLE_NO_BROWSER=1 keeps the Firefox parts.
gpu-bundle: all
	bench/gpu-bundle.sh $(or $(GPU_BUNDLE_OUT),build/gpu-bundle) $(GPU_BUNDLE_BASE)

clean:
	rm -rf build build-san build-fuzz accel-top

-include $(shell find build build-san -name '*.d' 2>/dev/null)
