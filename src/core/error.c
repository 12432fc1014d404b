#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

int recnn__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

RECNN_API const char *recnn_last_error(void) { return last_error; }

RECNN_API void recnn_clear_error(void) { last_error[0] = '\0'; }

RECNN_API const char *recnn_strerror(int status)
{
    switch (status) {
    case RECNN_OK: return "success";
    case RECNN_E_INVALID: return "invalid argument";
    case RECNN_E_NOMEM: return "out of memory";
    case RECNN_E_IO: return "input/output error";
    case RECNN_E_FORMAT: return "malformed input";
    case RECNN_E_NUMERIC: return "numerical failure";
    case RECNN_E_STATE: return "invalid state for this call";
    case RECNN_E_UNSUPPORTED: return "not supported";
    case RECNN_E_NOTFOUND: return "not found";
    case RECNN_E_VERSION: return "version mismatch";
    case RECNN_E_CORRUPT: return "corrupt or truncated data";
    case RECNN_E_STOPPED: return "stopped by callback";
    default: return "unknown status";
    }
}
