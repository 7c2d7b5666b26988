# sealpipe — top-level, non-recursive build.
#
# Each directory adds its part through a module.mk; sources are found by wildcard so a
# new .c file needs no Makefile change.  Objects go under $(BUILD), programs under bin/.
# Library flags come from pkg-config; when a library is missing, scripts/deps.sh installs
# it once and $(BUILD)/config.mk records the flags (make restarts after writing it).

VERSION   := 0.1.0
BUILD     ?= build
BIN       ?= bin
CC        ?= cc
PREFIX    ?= /usr/local
DESTDIR   ?=
SANITIZE  ?=
V         ?= 0
ifeq ($(V),0)
Q_CC = @echo "  CC      $<";
Q_LD = @echo "  LD      $@";
Q_AR = @echo "  AR      $@";
endif

PKGS      := hwloc libconfig OpenCL sqlite3 libcjson libmicrohttpd libcurl openssl cmocka libsystemd
TOOLS     := jq clinfo lstopo-no-graphics sqlite3 curl

WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla
OPT       ?= -O2
CFLAGS_ALL = -std=c11 $(OPT) -g $(WARN) -D_GNU_SOURCE -DSP_VERSION='"$(VERSION)"' \
             -pthread -MMD -MP -fno-strict-aliasing $(SAN_FLAGS) $(PKG_CFLAGS) \
             -Icommon/include -Iproofs-ffi/include $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -ldl -pthread $(LDLIBS)

# SANITIZE=1: ASan + UBSan (make asan); thread: TSan (make tsan); fuzz: clang's libFuzzer
# instrumentation with ASan + UBSan (make fuzz, CC=clang).  Sanitizers replace malloc, so
# any of them drops jemalloc.
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT       := -O1
else ifeq ($(SANITIZE),thread)
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
OPT       := -O1
else ifeq ($(SANITIZE),fuzz)
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
OPT       := -O1
else
SAN_FLAGS :=
endif
MALLOC_LIB = $(if $(SANITIZE),,$(JEMALLOC_LIBS))

NO_CONFIG_GOALS := clean distclean help
ifeq ($(filter $(NO_CONFIG_GOALS),$(MAKECMDGOALS)),)
-include $(BUILD)/config.mk
endif

.DEFAULT_GOAL := all
.PHONY: all test test-unit test-e2e test-long bench demo asan tsan valgrind install uninstall clean distclean fuzz help deb

# ---------------------------------------------------------------------------------------
# Dependency detection: runs scripts/deps.sh only when something is missing.
$(BUILD)/config.mk: scripts/deps.sh Makefile
	@mkdir -p $(BUILD)
	@if ! pkg-config --exists $(PKGS) jemalloc 2>/dev/null || \
	    ! for t in $(TOOLS); do command -v $$t >/dev/null || exit 1; done; then \
	    echo "build: some libraries or tools are missing; running scripts/deps.sh"; \
	    sh scripts/deps.sh || exit 1; \
	fi
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS)) -lcrypto"; \
	   echo "JEMALLOC_LIBS := $$(pkg-config --libs jemalloc)"; } > $@.tmp
	@mv $@.tmp $@

# ---------------------------------------------------------------------------------------
# Generic rules.  $(EXTRA_CFLAGS) is set per object by module.mk files that need
# instruction-set flags on one file only (runtime dispatch picks the path).
$(BUILD)/%.o: %.c $(BUILD)/config.mk
	@mkdir -p $(dir $@)
	$(Q_CC)$(CC) $(CFLAGS_ALL) $(EXTRA_CFLAGS) -c $< -o $@

# Objects of a library are everything under $(1)/src except main.c.
lib_objs = $(patsubst %.c,$(BUILD)/%.o,$(filter-out %/main.c,$(wildcard $(1)/src/*.c)))

include common/module.mk
include proofs-ffi/module.mk
include sector-manager/module.mk
include worker/module.mk
include tests/module.mk
include tests/fuzz/module.mk

PROGRAMS := $(BIN)/sector-manager $(BIN)/seal-worker $(BIN)/sealproof
all: $(PROGRAMS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------------------
asan:
	$(MAKE) SANITIZE=1 BUILD=build-asan BIN=build-asan/bin test

demo: all
	@bash scripts/demo.sh

bench: all $(BENCH_DEPS)
	@sh scripts/bench.sh

install: all
	@sh scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(BIN)"

uninstall:
	@sh scripts/install.sh --uninstall "$(DESTDIR)" "$(PREFIX)"

# A Debian package of the programs, units, configs and docs: $(BUILD)/sealpipe_*.deb.
deb: all
	@sh scripts/deb.sh "$(VERSION)" "$(BIN)" "$(BUILD)"

clean:
	rm -rf build build-asan build-tsan build-fuzz bin

distclean: clean

help:
	@echo "targets: all test test-long bench demo asan tsan valgrind fuzz install uninstall clean"
.SECONDARY:
