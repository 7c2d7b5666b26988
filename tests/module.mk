# tests/: one cmocka program per tests/unit/test_*.c, shell end-to-end tests in tests/e2e/
# (run by `make test`) and tests/long/ (run by `make test-long`).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# Scripts named lib.sh or *_lib.sh are sourced helpers, not tests.
E2E_TESTS := $(sort $(filter-out %lib.sh,$(wildcard tests/e2e/*.sh)))
LONG_TESTS := $(sort $(filter-out %lib.sh,$(wildcard tests/long/*.sh)))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
ALL_LIBS = $(MANAGER_LIB) $(WORKER_LIB) $(PROOFS_LIB) $(COMMON_LIB)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJS) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $< $(TESTLIB_OBJS) $(ALL_LIBS) $(LDLIBS_ALL)

# Tests find programs and data through the environment, never through relative guesses.
TEST_ENV = SP_BIN=$(abspath $(BIN)) SP_BUILD=$(abspath $(BUILD)) SP_ROOT=$(CURDIR) \
           SP_TESTS=$(CURDIR)/tests \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test: all $(UNIT_BINS)
	@$(TEST_ENV) sh tests/run.sh $(UNIT_BINS) $(E2E_TESTS)

test-unit: all $(UNIT_BINS)
	@$(TEST_ENV) sh tests/run.sh $(UNIT_BINS)

test-long: all $(UNIT_BINS)
	@$(TEST_ENV) sh tests/run.sh $(LONG_TESTS)

# `make check T=name` runs one unit test program or e2e script while developing.
check: all $(UNIT_BINS)
	@$(TEST_ENV) sh tests/run.sh $(filter %$(T) %$(T).sh,$(UNIT_BINS) $(E2E_TESTS) $(LONG_TESTS))

# Unit tests may test internals, so they see each module's private headers.
$(BUILD)/tests/unit/%.o: EXTRA_CFLAGS += -Iproofs-ffi/src -Iworker/src -Isector-manager/src -Itests/lib
