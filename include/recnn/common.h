/* librecnn — common definitions: export macro, status codes, errors,
 * version, thread budget.  Part of the public API; include <recnn.h>. */
#ifndef RECNN_COMMON_H
#define RECNN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RECNN_BUILDING) && defined(__GNUC__)
#define RECNN_API __attribute__((visibility("default")))
#else
#define RECNN_API
#endif

#define RECNN_VERSION_MAJOR 0
#define RECNN_VERSION_MINOR 1
#define RECNN_VERSION_PATCH 0
/* One integer for comparisons: major*10000 + minor*100 + patch. */
#define RECNN_VERSION_NUMBER \
    (RECNN_VERSION_MAJOR * 10000 + RECNN_VERSION_MINOR * 100 + RECNN_VERSION_PATCH)

/* Every fallible call returns one of these.  0 is success, failures are
 * negative; the numeric values are part of the ABI and never change. */
typedef enum recnn_status {
    RECNN_OK = 0,
    RECNN_E_INVALID = -1,     /* an argument is out of range or NULL */
    RECNN_E_NOMEM = -2,       /* allocation failed or a size overflowed */
    RECNN_E_IO = -3,          /* a file could not be opened/read/written */
    RECNN_E_FORMAT = -4,      /* input is malformed (file:line in last_error) */
    RECNN_E_NUMERIC = -5,     /* NaN/Inf, a failed factorisation, divergence */
    RECNN_E_STATE = -6,       /* call not valid now (e.g. predict before fit) */
    RECNN_E_UNSUPPORTED = -7, /* the object cannot do this (e.g. no fold-in) */
    RECNN_E_NOTFOUND = -8,    /* unknown id, key or setting name */
    RECNN_E_VERSION = -9,     /* header/library or file format mismatch */
    RECNN_E_CORRUPT = -10,    /* checksum mismatch, truncated or foreign file */
    RECNN_E_STOPPED = -11     /* a callback asked to stop (not an error for fit) */
} recnn_status;

/* Static English name of a status code ("invalid argument", ...). Never NULL. */
RECNN_API const char *recnn_strerror(int status);

/* The detail of the most recent failure on the calling thread, e.g.
 * "u.data:1207: rating \"abc\" is not a number".  Thread-local; valid until
 * the next failing librecnn call on this thread.  Never NULL ("" if none). */
RECNN_API const char *recnn_last_error(void);

/* Clears the calling thread's last error. */
RECNN_API void recnn_clear_error(void);

/* The library's version as a string ("0.1.0") and as RECNN_VERSION_NUMBER. */
RECNN_API const char *recnn_version(void);
RECNN_API int recnn_version_number(void);

/* Checks that the library a program runs with can serve the header it was
 * compiled with: same major version and a library minor version >= the
 * header's.  Returns RECNN_OK or RECNN_E_VERSION (with detail).  Use the
 * macro, which passes the header's numbers. */
RECNN_API int recnn_check_version(int header_major, int header_minor);
#define RECNN_CHECK_VERSION() \
    recnn_check_version(RECNN_VERSION_MAJOR, RECNN_VERSION_MINOR)

/* The library's thread budget, shared by its OpenMP loops and by BLAS so
 * that the two pools never run at once.  n <= 0 restores the default (the
 * OpenMP default: OMP_NUM_THREADS or the cores this process may use, at
 * most RECNN_MAX_THREADS); the default is also given to BLAS when the
 * library first needs it.  n > RECNN_MAX_THREADS is RECNN_E_INVALID.
 * Process-wide; set it before training, not while a call is running. */
#define RECNN_MAX_THREADS 256
RECNN_API int recnn_set_num_threads(int n);
RECNN_API int recnn_get_num_threads(void);

/* A short description of the BLAS in use ("OpenBLAS 0.3.21 Haswell
 * pthreads"), for benchmark reports. Never NULL. */
RECNN_API const char *recnn_blas_info(void);

#ifdef __cplusplus
}
#endif
#endif
