# common/: libsealpipe-common.a (sp_ prefix) — logging, errors, sizes, config, JSON-RPC.
COMMON_LIB := $(BUILD)/libsealpipe-common.a
COMMON_OBJS := $(call lib_objs,common)

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^
