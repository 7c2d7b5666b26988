/* sealproofs/pc1.h — (to be written) */
#ifndef SEALPROOFS_PC1_H
#define SEALPROOFS_PC1_H
#include "../sealproofs.h"
#endif
