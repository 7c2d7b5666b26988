# sector-manager/: libmanager.a (everything but main.c, so tests can link it) and the daemon.
MANAGER_LIB := $(BUILD)/libmanager.a
MANAGER_OBJS := $(call lib_objs,sector-manager)

$(MANAGER_LIB): $(MANAGER_OBJS)
	@mkdir -p $(dir $@)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^

$(BIN)/sector-manager: $(BUILD)/sector-manager/src/main.o $(MANAGER_LIB) $(PROOFS_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $^ $(MALLOC_LIB) $(LDLIBS_ALL)
