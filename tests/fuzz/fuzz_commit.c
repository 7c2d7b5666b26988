/* fuzz_commit.c — libFuzzer harness for the commit-phase decoders: the first input byte
 * picks the target, the rest is the data.
 *   0: pf_c1_output_decode (2KiB and 8MiB ids); whatever decodes must encode back to the
 *      very same bytes (the decoder accepts exactly one encoding of each output)
 *   1: pf_verify_seal on arbitrary commit-proof bytes for fixed public inputs (never OK)
 *   2: pf_verify_window_post on arbitrary PoSt-proof bytes (never OK)
 * libFuzzer needs the whole library built by clang with -fsanitize=fuzzer (clang >= 15:
 * clang 14 rejects sha256.c's __builtin_cpu_supports("sha")).  With -DFUZZ_MAIN it is a
 * plain program that runs every file named on the command line through the harness
 * (replaying a corpus with gcc + ASan):
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_MAIN -fsanitize=address,undefined -Iproofs-ffi/include
 *      tests/fuzz/fuzz_commit.c build-asan/libsealproofs.a -lm -pthread -lhwloc -lOpenCL */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealproofs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t target = data[0] % 3;
    data++;
    size--;
    pf_error err;
    static const uint8_t inputs[32] = { 1, 2, 3 };
    if (target == 0) {
        pf_c1_output o;
        if (pf_c1_output_decode(data, size, &o, &err) == PF_OK) {
            uint8_t *again;
            size_t len;
            if (pf_c1_output_encode(&o, &again, &len, &err) != PF_OK || len != size ||
                memcmp(again, data, size) != 0)
                abort();
            free(again);
            (void)pf_c1_output_verify(&o, &err);
            pf_c1_output_free(&o);
        }
    } else if (target == 1) {
        if (pf_verify_seal(5, inputs, inputs, inputs, inputs, inputs, 1, data, size, &err) == PF_OK)
            abort();
    } else {
        pf_post_public_replica r = { 1, { 1, 2, 3 } };
        if (pf_verify_window_post(10, inputs, inputs, &r, 1, data, size, &err) == PF_OK)
            abort();
    }
    return 0;
}

#ifdef FUZZ_MAIN
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 24];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
