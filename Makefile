# Basalt - plain Makefile with pkg-config.
#
#   make            build build/basalt and build/libbasalt.a
#   make run        install missing packages, build, serve on :8090
#                   (HTTP=addr:port DIR=pb_data ARGS="--dev" to change)
#   make test       install, check the layers, build, run every test tier
#   make browser    the dashboard's browser tests (headless Chromium)
#   make filter-pg  the filter language on a throwaway PostgreSQL 15
#   make compat-pg  the PocketBase compatibility replay on PostgreSQL
#   make check-layers  includes only look down; sqlite3_ stays in src/db
#   make check-exports the library exports only what include/basalt.h declares
#   make SANITIZE=1 test   the same under ASan+UBSan (separate build dir)
#   make fuzz       build and briefly run the libFuzzer drivers
#   make bench      run the benchmark harness
#   make install    libbasalt.a, basalt.h, basalt.pc and the basalt binary
#                   under PREFIX (default /usr/local; DESTDIR for staging)
#   make check-install  installs into build/ and builds examples/orders.c
#                   with nothing but `pkg-config --cflags --libs basalt`

CC      ?= cc
PKGS    := libmicrohttpd json-c sqlite3 libcrypto libcrypt zlib libpcre2-8 libcurl libmagic gdlib libzip \
	javascriptcoregtk-4.1 libpq libnats
CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Wformat=2 -Wvla \
	-fno-strict-aliasing -D_GNU_SOURCE -Iinclude
ifeq ($(SANITIZE),1)
BUILD   := build/sanitize
CFLAGS_BASE += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
BUILD   := build
endif

# Libraries opened at run time on first use (src/base/dl.h): their
# headers are needed, their link flags are not.
PKGS_DL := gdlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out $(PKGS_DL),$(PKGS)) 2>/dev/null)
CFLAGS  += $(CFLAGS_BASE) $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -ldl -lpthread -lm

LIB_SRC := $(wildcard src/base/*.c src/db/*.c src/http/*.c src/schema/*.c src/filter/*.c src/core/*.c src/api/*.c src/js/*.c) \
	$(filter-out src/cli/main.c,$(wildcard src/cli/*.c))
GEN_SRC := $(BUILD)/gen/defaults.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/defaults.o $(BUILD)/gen/ui_assets.o \
	$(BUILD)/gen/prelude.o
LIB     := $(BUILD)/libbasalt.a
BIN     := $(BUILD)/basalt

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit filter-pg blackbox blackbox-cluster compat compat-pg browser setup fuzz bench clean sanitize-test \
	check-layers check-exports install check-install

EXAMPLES := $(BUILD)/examples/orders $(BUILD)/examples/hooks_noop $(BUILD)/examples/routes \
	$(BUILD)/examples/js_twin

all: $(BIN) $(EXAMPLES)

$(BUILD)/examples/%: examples/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Library names are hidden unless include/basalt.h marks them BS_EXPORT;
# inside the static archive they still link (the unit tests use them).
$(LIB_OBJ): CFLAGS += -fvisibility=hidden
# Flags live here: objects built with older ones (visibility, sanitizers)
# must not survive a change of this file.
$(LIB_OBJ): Makefile

# Built-in JSON documents (defaults/*.json) become C strings.
$(GEN_SRC): src/core/defaults/auth_options.json src/core/defaults/system_collections.json scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ \
		bs_default_auth_options src/core/defaults/auth_options.json \
		bs_default_system_collections src/core/defaults/system_collections.json

$(BUILD)/gen/defaults.o: $(GEN_SRC)
	$(CC) $(CFLAGS) -c $< -o $@

# The admin dashboard (ui/): npm ci only when node_modules is missing or
# older than the lockfile, then esbuild into build/ui (shared by every
# build flavour), then its files become a C table (scripts/embed_ui.py).
UI_SRC := $(shell find ui/src -type f 2>/dev/null) ui/build.mjs ui/package.json
UI_OUT := build/ui/index.html

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_OUT): $(UI_SRC) ui/node_modules/.package-lock.json
	cd ui && node build.mjs ../build/ui

$(BUILD)/gen/ui_assets.c: $(UI_OUT) scripts/embed_ui.py
	@mkdir -p $(dir $@)
	python3 scripts/embed_ui.py build/ui $@

$(BUILD)/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c src/api/dashboard.h
	$(CC) $(CFLAGS) -Isrc -c $< -o $@

# The JavaScript half of the pb_hooks surface (src/js/prelude.js).
$(BUILD)/gen/prelude.c: src/js/prelude.js scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ bsj_prelude_js src/js/prelude.js

$(BUILD)/gen/prelude.o: $(BUILD)/gen/prelude.c
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# The filter language on a throwaway PostgreSQL 15 (tests/pg/pg.sh)
# against SQLite. libpq is in PKGS: the library's src/db/pg.c uses it
# (pg export and pg import), and this test calls it directly.
PG_TEST := $(BUILD)/tests/pg/test_filter_pg
$(PG_TEST): tests/pg/test_filter_pg.c tests/unit/harness.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

filter-pg: $(PG_TEST)
	@sh tests/pg/pg.sh run $(PG_TEST)

setup:
	@sh scripts/setup.sh

# make run HTTP=0.0.0.0:8080 DIR=/srv/pb_data ARGS=--dev
HTTP ?= 127.0.0.1:8090
DIR  ?= ./pb_data
run: setup
	@$(MAKE) --no-print-directory all
	./$(BIN) serve --http=$(HTTP) --dir=$(DIR) $(ARGS)

unit: $(UNIT_BIN)
	@sh tests/unit/run.sh $(UNIT_BIN)

blackbox: $(BIN) $(EXAMPLES)
	@BASALT_BIN=$(abspath $(BIN)) sh tests/blackbox/run.sh

# The same suite against a cluster: every server a test starts is nodes on
# one PostgreSQL and NATS behind nginx (tests/blackbox/lib/cluster_mode.mjs).
blackbox-cluster: $(BIN) $(EXAMPLES)
	@BASALT_TEST_CLUSTER=1 BASALT_BIN=$(abspath $(BIN)) sh tests/blackbox/run.sh

compat: $(BIN)
	@BASALT_BIN=$(abspath $(BIN)) sh tests/compat/run.sh

# The same replay against one node on a throwaway PostgreSQL
# (tests/compat/run_pg.sh; baselines baseline-pg and setup/baseline-pg).
compat-pg: $(BIN)
	@BASALT_BIN=$(abspath $(BIN)) sh tests/compat/run_pg.sh

# The dashboard in headless Chromium (tests/browser; screenshots in
# build/browser).
browser: $(BIN)
	@BASALT_BIN=$(abspath $(BIN)) sh tests/browser/run.sh

# The layer rules of scripts/check_layers.py (README, "Source layout").
check-layers:
	@python3 scripts/check_layers.py

# The names of default visibility in the library must be exactly the
# functions that include/basalt.h declares.
check-exports: $(LIB)
	@readelf -sW $(LIB) | awk '$$5 == "GLOBAL" && $$6 == "DEFAULT" && $$7 != "UND" {print $$8}' | sort -u >$(BUILD)/exports.txt
	@sed -n 's/^BS_EXPORT [^(]*[ *]\(bs_[a-z0-9_]*\)(.*/\1/p' include/basalt.h | sort -u >$(BUILD)/exports.want
	@diff $(BUILD)/exports.want $(BUILD)/exports.txt >/dev/null || { echo "check-exports: declared in basalt.h (<) vs exported (>):"; diff $(BUILD)/exports.want $(BUILD)/exports.txt; exit 1; }
	@echo "check-exports: ok ($$(wc -l <$(BUILD)/exports.txt) names)"

test: setup
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-exports
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory filter-pg
	@$(MAKE) --no-print-directory blackbox
	@$(MAKE) --no-print-directory compat
	@$(MAKE) --no-print-directory browser
ifneq ($(SANITIZE),1)
	@$(MAKE) --no-print-directory compat-pg
	@$(MAKE) --no-print-directory fuzz-smoke
endif

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(CFLAGS_BASE) $(PKG_CFLAGS) -Isrc -O1 -g $(FUZZ_SAN) -MMD -MP
# The library is compiled once with coverage instrumentation; each driver
# links it with libFuzzer's main.
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/defaults.o build/fuzz/obj/gen/ui_assets.o \
	build/fuzz/obj/gen/prelude.o
$(FUZZ_OBJ): Makefile

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/obj/gen/defaults.o: $(GEN_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/obj/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/obj/gen/prelude.o: $(BUILD)/gen/prelude.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

.SECONDARY: $(FUZZ_OBJ)

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS) -lpthread -lm

# New inputs go to build/fuzz/corpus-NAME; the seeds in tests/fuzz/corpus
# are only read.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; echo "== $$n"; $$f -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

# A short run of every fuzz driver, as part of make test.
fuzz-smoke: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; $$f -max_total_time=$${FUZZ_SECONDS:-10} -print_final_stats=0 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 || { cat build/fuzz/$$n.log; exit 1; }; echo "fuzz $$n: ok"; done

PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^\#define BASALT_VERSION "\(.*\)"/\1/p' include/basalt.h)

install: $(LIB) $(BIN) basalt.pc.in
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libbasalt.a
	install -m 644 include/basalt.h $(DESTDIR)$(PREFIX)/include/basalt.h
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/basalt
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(filter-out $(PKGS_DL),$(PKGS))|' basalt.pc.in \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/basalt.pc

check-install:
	@rm -rf $(BUILD)/install
	@$(MAKE) --no-print-directory install PREFIX=$(abspath $(BUILD)/install) >/dev/null
	@PKG_CONFIG_PATH=$(abspath $(BUILD)/install)/lib/pkgconfig; export PKG_CONFIG_PATH; \
	$(CC) -o $(BUILD)/install/orders examples/orders.c $$(pkg-config --cflags --libs basalt) && \
	$(BUILD)/install/orders --version >/dev/null && \
	echo "check-install: ok (examples/orders.c built with pkg-config --cflags --libs basalt)"

bench: all
	@BASALT=$(abspath $(BIN)) bash bench/run.sh $(BENCH)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d
# The fuzz build tracks headers too: a stale object with an old struct
# layout makes a driver fail for no reason of the code.
-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)
