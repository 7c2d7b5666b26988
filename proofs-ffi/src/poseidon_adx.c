/* poseidon_adx.c — the optimized Poseidon permutation on the MULX/ADX Fr product (built
 * with -mbmi2 -madx; poseidon.c calls in only when pf_fr_using_adx()). */
#include "fr_adx.h"
#if defined(__x86_64__)
#define PERM_MUL(r, a, b) pf_fr_mul_adx_inline((r), (a), (b))
#else
#define PERM_MUL(r, a, b) pf_fr_mul_inline((r), (a), (b))
#endif
#define PERM_NAME(name) name##_adx
#define PERM_LAZY 0
#include "poseidon_perm.h"
