/* sp_err.h — the one error type of sealpipe's common library and daemons.
 *
 * A function that can fail returns an sp_code (SP_OK == 0) and, when given a non-NULL
 * sp_err, fills it with the code and a message saying what was wrong, where, and what to
 * do.  Messages are complete sentences fragments without a trailing newline, e.g.
 *   "worker.cfg:12: processors.pc1[0].cores: 40 cores requested but NUMA node 0 has 32; ..."
 * Nothing in sealpipe aborts on bad input; asserts guard internal invariants only.
 */
#ifndef SP_ERR_H
#define SP_ERR_H

#include <stdarg.h>

typedef enum sp_code {
    SP_OK = 0,
    SP_EINVAL,      /* bad argument or malformed input */
    SP_ECONFIG,     /* configuration file error (message names file:line: key) */
    SP_EPARSE,      /* syntax error in a document (JSON, config, CAR, ...) */
    SP_EIO,         /* file or device I/O failed */
    SP_ENOSPC,      /* no space left on a device or store */
    SP_ENOMEM,      /* allocation failed */
    SP_ENOTFOUND,   /* the named object does not exist */
    SP_EEXIST,      /* the object already exists */
    SP_EAUTH,       /* missing, malformed or insufficient credentials */
    SP_ENET,        /* connection or transport failure (retryable) */
    SP_ETIMEOUT,    /* an operation ran out of time */
    SP_ERPC,        /* the peer answered with a JSON-RPC error */
    SP_ESTATE,      /* the operation is not allowed in the current state */
    SP_EBUSY,       /* resource temporarily unavailable; retry later */
    SP_EPROOF,      /* a proof computation or verification failed */
    SP_ECORRUPT,    /* stored data failed an integrity check */
    SP_EINTERNAL,   /* a bug: an invariant did not hold */
    SP_CODE_COUNT
} sp_code;

#define SP_ERR_MSG_MAX 512

typedef struct sp_err {
    sp_code code;
    char msg[SP_ERR_MSG_MAX];
} sp_err;

/* Short, fixed description of a code ("invalid argument", ...). Never NULL. */
const char *sp_strerror(sp_code code);

/* Fills *err (if non-NULL) and returns code, so callers can `return sp_fail(err, ...)`. */
sp_code sp_fail(sp_err *err, sp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sp_code sp_vfail(sp_err *err, sp_code code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to an existing message, keeping the code; returns err->code. */
sp_code sp_err_prefix(sp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills *err from errno with "what: strerror(errno)", mapping ENOSPC/ENOENT/... to codes. */
sp_code sp_fail_errno(sp_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void sp_err_clear(sp_err *err) { if (err) { err->code = SP_OK; err->msg[0] = 0; } }

#endif
