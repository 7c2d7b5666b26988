/* err.c — sp_err: error codes, their message table, and message formatting. */
#include "sp_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[SP_CODE_COUNT] = {
    [SP_OK] = "no error",
    [SP_EINVAL] = "invalid argument",
    [SP_ECONFIG] = "configuration error",
    [SP_EPARSE] = "parse error",
    [SP_EIO] = "I/O error",
    [SP_ENOSPC] = "no space left",
    [SP_ENOMEM] = "out of memory",
    [SP_ENOTFOUND] = "not found",
    [SP_EEXIST] = "already exists",
    [SP_EAUTH] = "unauthorized",
    [SP_ENET] = "network error",
    [SP_ETIMEOUT] = "timed out",
    [SP_ERPC] = "remote error",
    [SP_ESTATE] = "invalid state",
    [SP_EBUSY] = "busy",
    [SP_EPROOF] = "proof error",
    [SP_ECORRUPT] = "data corrupt",
    [SP_EINTERNAL] = "internal error",
};

const char *sp_strerror(sp_code code)
{
    if ((unsigned)code >= SP_CODE_COUNT || !messages[code])
        return "unknown error";
    return messages[code];
}

sp_code sp_vfail(sp_err *err, sp_code code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

sp_code sp_fail(sp_err *err, sp_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

sp_code sp_err_prefix(sp_err *err, const char *fmt, ...)
{
    if (!err)
        return SP_EINTERNAL;
    char prefix[SP_ERR_MSG_MAX], old[SP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation keeps the start of the message, which names the failing object. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        err->msg[sizeof err->msg - 1] = 0;
    return err->code;
}

static sp_code code_from_errno(int e)
{
    switch (e) {
    case ENOSPC: case EDQUOT: return SP_ENOSPC;
    case ENOENT: case ENOTDIR: return SP_ENOTFOUND;
    case EEXIST: return SP_EEXIST;
    case ENOMEM: return SP_ENOMEM;
    case EACCES: case EPERM: return SP_EAUTH;
    case EINVAL: return SP_EINVAL;
    case ETIMEDOUT: return SP_ETIMEOUT;
    case ECONNREFUSED: case ECONNRESET: case EHOSTUNREACH: case ENETUNREACH: return SP_ENET;
    case EAGAIN: case EBUSY: return SP_EBUSY;
    default: return SP_EIO;
    }
}

sp_code sp_fail_errno(sp_err *err, int errnum, const char *fmt, ...)
{
    sp_code code = code_from_errno(errnum);
    if (!err)
        return code;
    char what[SP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err->code = code;
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", what, strerror(errnum)) >= (int)sizeof err->msg)
        err->msg[sizeof err->msg - 1] = 0;
    return code;
}
