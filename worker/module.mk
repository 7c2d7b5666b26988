# worker/: libworker.a (everything but main.c, so tests can link it) and seal-worker.
WORKER_LIB := $(BUILD)/libworker.a
WORKER_OBJS := $(call lib_objs,worker)

$(WORKER_LIB): $(WORKER_OBJS)
	@mkdir -p $(dir $@)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^

$(BIN)/seal-worker: $(BUILD)/worker/src/main.o $(WORKER_LIB) $(PROOFS_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $^ $(MALLOC_LIB) $(LDLIBS_ALL)
