/* sealproofs/pc2.h — (to be written) */
#ifndef SEALPROOFS_PC2_H
#define SEALPROOFS_PC2_H
#include "../sealproofs.h"
#endif
