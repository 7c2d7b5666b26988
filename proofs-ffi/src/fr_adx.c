/* fr_adx.c — the MULX/ADX Fr product as a callable function (built with -mbmi2 -madx,
 * entered only after pf_fr_cpu_has_adx()); the product itself is in fr_adx.h. */
#include "fr_adx.h"

void pf_fr_mul_adx(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
#if defined(__x86_64__)
    pf_fr_mul_adx_inline(r, a, b);
#else
    pf_fr_mul_inline(r, a, b);
#endif
}
