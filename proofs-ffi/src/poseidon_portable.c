/* poseidon_portable.c — the optimized Poseidon permutation on the portable Fr product. */
#define PERM_MUL(r, a, b) pf_fr_mul_inline((r), (a), (b))
#define PERM_NAME(name) name##_portable
#define PERM_LAZY 1
#include "poseidon_perm.h"
