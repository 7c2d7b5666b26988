/* sealproofs/commit.h — (to be written) */
#ifndef SEALPROOFS_COMMIT_H
#define SEALPROOFS_COMMIT_H
#include "../sealproofs.h"
#endif
