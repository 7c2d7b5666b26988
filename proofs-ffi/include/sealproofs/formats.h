/* sealproofs/formats.h — (to be written) */
#ifndef SEALPROOFS_FORMATS_H
#define SEALPROOFS_FORMATS_H
#include "../sealproofs.h"
#endif
