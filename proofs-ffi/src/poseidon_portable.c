/* poseidon_portable.c — the optimized Poseidon permutation on the portable Fr product. */
#define PERM_MUL(r, a, b) pf_fr_mul_inline((r), (a), (b))
#define PERM_NAME(name) name##_portable
#include "poseidon_perm.h"
