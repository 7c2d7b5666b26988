# sector-manager/: libmanager.a (everything but main.c, so tests can link it) and the daemon.
MANAGER_LIB := $(BUILD)/libmanager.a
MANAGER_OBJS := $(call lib_objs,sector-manager)

# config/manager.cfg is compiled in as sm_default_config[]: `sector-manager init` writes
# exactly the documented file, so the two never drift.
MANAGER_CFG_C := $(BUILD)/sector-manager/gen/manager_cfg.c
MANAGER_OBJS += $(BUILD)/sector-manager/gen/manager_cfg.o

$(MANAGER_CFG_C): config/manager.cfg sector-manager/module.mk
	@mkdir -p $(dir $@)
	@{ echo '/* generated from config/manager.cfg by sector-manager/module.mk; do not edit */'; \
	   echo 'extern const char sm_default_config[];'; \
	   echo 'const char sm_default_config[] = {'; \
	   od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0x00 };'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/sector-manager/gen/manager_cfg.o: $(MANAGER_CFG_C)
	$(Q_CC)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(MANAGER_LIB): $(MANAGER_OBJS)
	@mkdir -p $(dir $@)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^

$(BIN)/sector-manager: $(BUILD)/sector-manager/src/main.o $(MANAGER_LIB) $(PROOFS_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $^ $(MALLOC_LIB) $(LDLIBS_ALL)
