# proofs-ffi/: libsealproofs.a (pf_ prefix) and the sealproof tool.
# OpenCL kernel sources are embedded into the library as C strings.
PROOFS_LIB := $(BUILD)/libsealproofs.a
PROOFS_CL := $(wildcard proofs-ffi/opencl/*.cl)
PROOFS_CL_C := $(BUILD)/proofs-ffi/cl_sources.c
PROOFS_OBJS := $(call lib_objs,proofs-ffi) $(PROOFS_CL_C:.c=.o)

$(PROOFS_CL_C): $(PROOFS_CL) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ $(PROOFS_CL)

$(PROOFS_CL_C:.c=.o): $(PROOFS_CL_C)
	$(Q_CC)$(CC) $(CFLAGS_ALL) -c $< -o $@

# Instruction-set specific files; the code checks the CPU before calling into them.
$(BUILD)/proofs-ffi/src/sha256_ni.o: EXTRA_CFLAGS += -msha -msse4.1 -mssse3

$(PROOFS_LIB): $(PROOFS_OBJS)
	@mkdir -p $(dir $@)
	$(Q_AR)rm -f $@ && $(AR) rcs $@ $^

SEALPROOF_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard proofs-ffi/tools/*.c))
$(BIN)/sealproof: $(SEALPROOF_OBJS) $(PROOFS_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(Q_LD)$(CC) $(CFLAGS_ALL) -o $@ $(SEALPROOF_OBJS) $(PROOFS_LIB) $(COMMON_LIB) $(LDLIBS_ALL)

# Fr MULX/ADX product and the Poseidon permutation built on it (pf_fr_cpu_has_adx() first).
$(BUILD)/proofs-ffi/src/fr_adx.o: EXTRA_CFLAGS += -mbmi2 -madx
$(BUILD)/proofs-ffi/src/poseidon_adx.o: EXTRA_CFLAGS += -mbmi2 -madx
# SDR node labeling with SHA-NI (label.c checks the CPU before choosing it).
$(BUILD)/proofs-ffi/src/label_ni.o: EXTRA_CFLAGS += -msha -msse4.1 -mssse3
# Four-lane BLAKE2b Feistel for parent-cache generation (graph.c checks for AVX2 first).
$(BUILD)/proofs-ffi/src/feistel_avx2.o: EXTRA_CFLAGS += -mavx2
