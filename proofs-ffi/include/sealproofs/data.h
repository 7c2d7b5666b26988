/* sealproofs/data.h — (to be written) */
#ifndef SEALPROOFS_DATA_H
#define SEALPROOFS_DATA_H
#include "../sealproofs.h"
#endif
