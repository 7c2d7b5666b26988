/* sealproofs/filcrypto.h — (to be written) */
#ifndef SEALPROOFS_FILCRYPTO_H
#define SEALPROOFS_FILCRYPTO_H
#include "../sealproofs.h"
#endif
