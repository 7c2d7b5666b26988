# tests/fuzz/: libFuzzer targets (tests/fuzz/fuzz_<name>.c, see fuzz.h), their seed corpus
# (corpus/<name>/) and every crash ever found (regressions/<name>/), plus the sanitizer and
# valgrind runs of the test suite.
#
#   make fuzz            builds every target with clang + libFuzzer + ASan/UBSan into
#                        build-fuzz/ and runs each for FUZZ_SECONDS (default 60) over its
#                        corpus (FUZZ_TARGETS="car cid" picks some); crashes land in
#                        build-fuzz/crashes/<name>/
#   make test            also replays corpus and regressions through every target built
#                        without libFuzzer ($(BUILD)/tests/fuzz_<name>, replay.c)
#   make tsan            ThreadSanitizer build (build-tsan/) running the threaded parts' tests
#   make valgrind        the unit test programs under valgrind --leak-check=full
FUZZ_SRCS := $(filter-out tests/fuzz/fuzz_util.c,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_REPLAY_BINS := $(patsubst %,$(BUILD)/tests/fuzz_%,$(FUZZ_NAMES))
FUZZ_UTIL_OBJ := $(BUILD)/tests/fuzz/fuzz_util.o

# Targets see the private headers of every module, as unit tests do.
$(BUILD)/tests/fuzz/%.o: EXTRA_CFLAGS += -Iproofs-ffi/src -Iworker/src -Isector-manager/src

# The replay driver, once per target (it names the target's corpus directory).
$(BUILD)/tests/fuzz/replay-%.o: tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/config.mk
	@mkdir -p $(dir $@)
	$(Q_CC)$(CC) $(CFLAGS_ALL) -DFUZZ_NAME='"$*"' -c $< -o $@

$(BUILD)/tests/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay-%.o $(FUZZ_UTIL_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS_ALL)

# The replays run with the unit tests (tests/module.mk runs $(UNIT_BINS)).
UNIT_BINS += $(FUZZ_REPLAY_BINS)
test test-unit check: $(FUZZ_REPLAY_BINS)

# ---- make fuzz ----------------------------------------------------------------------------
FUZZ_CC ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)

# Inside the SANITIZE=fuzz sub-make: the libFuzzer programs.
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_UTIL_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS_ALL)

fuzz-build: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))

fuzz:
	@$(MAKE) --no-print-directory SANITIZE=fuzz CC=$(FUZZ_CC) BUILD=build-fuzz BIN=build-fuzz/bin \
	    FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-build
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    sh tests/fuzz/run.sh "$(CURDIR)/build-fuzz" "$(FUZZ_SECONDS)" $(FUZZ_TARGETS)

# ---- make tsan ----------------------------------------------------------------------------
# The threaded parts: HTTP/JSON-RPC server and client, the manager (RPC, database, chain,
# storage), the worker (processors, sealing threads, admin API), PC1 multi-core, PC2 threads,
# and the end-to-end runs of both daemons.  Others (pure arithmetic, formats) gain nothing.
TSAN_UNITS ?= test_http test_jsonrpc test_metrics test_manager_db test_manager_rpc \
              test_manager_chain test_manager_commits test_manager_deals test_manager_stores \
              test_manager_tokens test_cache test_storage_jobs test_worker_processor \
              test_worker_thread test_worker_sector test_pc1 test_pc2 test_labels
TSAN_E2E ?= manager_auth manager_crash manager_lifecycle storage_retrieval storage_gc \
            storage_repair storage_backup worker_seal worker_control worker_crash \
            sealproof_pc1 sealproof_pc2
# halt_on_error: a race fails the program (run.sh counts it); every report also goes to a
# file under $(BUILD)/tsan-reports, so a race in a daemon or a processor child that an e2e
# script does not notice (one found while it shuts down) still fails the run.
TSAN_REPORTS = $(abspath $(BUILD))/tsan-reports
TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 \
           log_path=$(TSAN_REPORTS)/tsan $(TSAN_OPTIONS)"

tsan:
	@$(MAKE) --no-print-directory SANITIZE=thread BUILD=build-tsan BIN=build-tsan/bin tsan-run

tsan-run: all $(patsubst %,$(BUILD)/tests/%,$(TSAN_UNITS))
	@rm -rf $(TSAN_REPORTS) && mkdir -p $(TSAN_REPORTS)
	@$(TEST_ENV) $(TSAN_ENV) sh tests/run.sh $(patsubst %,$(BUILD)/tests/%,$(TSAN_UNITS)) \
	    $(filter $(patsubst %,\%/%.sh,$(TSAN_E2E)),$(E2E_TESTS)); rc=$$?; \
	if [ -n "$$(ls $(TSAN_REPORTS))" ]; then \
	    echo "ThreadSanitizer reports (one file per process) in $(TSAN_REPORTS):"; \
	    grep -h -A3 '^WARNING: ThreadSanitizer\|^SUMMARY' $(TSAN_REPORTS)/* | head -n 60; exit 1; \
	fi; exit $$rc

# ---- make valgrind ------------------------------------------------------------------------
# Unit test programs (and the corpus replays) of the normal build under memcheck.  Programs
# that cannot run under it are skipped with the reason (tests/fuzz/valgrind.sh).
valgrind: all $(UNIT_BINS)
	@$(TEST_ENV) sh tests/fuzz/valgrind.sh $(UNIT_BINS)

.PHONY: fuzz fuzz-build tsan tsan-run valgrind
