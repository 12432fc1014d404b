/* Internal helpers of the text loaders and writers: a buffered line reader
 * and hand-written number parsers (no sscanf/strtod in the hot loop). */
#ifndef RECNN_DATA_TEXT_H
#define RECNN_DATA_TEXT_H

#include "dataset.h"

#include <stdio.h>

/* A line reader over read(2) with a large buffer (the file is not mapped,
 * so its pages do not count as this process's resident memory). */
typedef struct recnn__reader {
    int fd;
    const char *path;
    char *buf;
    size_t cap, beg, end;
    bool eof;
    int64_t line; /* number of the line last returned (1-based) */
} recnn__reader;

/* The longest line the reader returns (without its line break); a longer
 * one is RECNN_E_FORMAT "path:line: line longer than 64 MiB". */
#define RECNN__MAX_LINE ((size_t)64 << 20)

/* Opens path for reading, refusing anything but a regular file without
 * blocking (a FIFO, a terminal, /dev/zero, a pipe as /dev/stdin):
 * RECNN_E_IO "path: cannot open: ...", "path: is a directory" or
 * "path: not a regular file".  *fd is the caller's to close. */
int recnn__open_regular(const char *path, int *fd);

/* RECNN_E_IO when the file cannot be read or is not a regular file
 * (recnn__open_regular). */
int recnn__reader_open(recnn__reader *r, const char *path);
void recnn__reader_close(recnn__reader *r);
/* Next line without its "\n" / "\r\n" (and without a UTF-8 BOM on line 1):
 * 1 = a line in [*s, *e), 0 = end of file, < 0 = a status (I/O error). */
int recnn__reader_next(recnn__reader *r, const char **s, const char **e);

enum { RECNN__NUM_OK = 0, RECNN__NUM_BAD = 1, RECNN__NUM_OVERFLOW = 2,
       RECNN__NUM_NONFINITE = 3 };

/* A whole field as a decimal integer ([+-]digits). */
int recnn__parse_i64(const char *s, const char *e, int64_t *out);
/* A whole field as a decimal real ([+-]digits[.digits][e[+-]digits]);
 * "nan"/"inf" words and overflow give RECNN__NUM_NONFINITE. */
int recnn__parse_real(const char *s, const char *e, double *out);
/* "YYYY-MM-DD" as seconds since 1970-01-01 UTC (midnight). */
int recnn__parse_date(const char *s, const char *e, int64_t *out);
/* Days since 1970-01-01 of a civil date and back (proleptic Gregorian). */
int64_t recnn__days_from_civil(int64_t y, int m, int d);
void recnn__civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/* Replacing a file atomically (model files, text writers): a temporary
 * file beside the target, renamed over it once complete.  The target is
 * path, or the file path resolves to when path is a symbolic link (the
 * link stays, the file it points to is replaced).  The temporary file is
 * ".recnn-XXXXXX" in the target's directory (short, so any valid file
 * name can be saved), created with mode 0666 minus the umask, then given
 * the existing file's mode (and, best effort, owner) when one is replaced. */
typedef struct recnn__replace {
    char *target; /* malloc'd */
    char *tmp;    /* malloc'd */
    int fd;       /* the temporary file, open for writing; the caller closes it */
} recnn__replace;

/* Resolves path and creates the temporary file.  RECNN_E_IO (nothing
 * created) when path is a dangling symbolic link, exists and is not a
 * regular file ("path: not a regular file"), or the temporary file cannot
 * be created; RECNN_E_INVALID for an empty path; RECNN_E_NOMEM. */
int recnn__replace_begin(recnn__replace *r, const char *path);
/* Renames the temporary file (which the caller has written, synced and
 * closed) over the target and syncs the directory (best effort).  0 or the
 * errno of the failed rename (the temporary file is then removed).  Frees
 * r's strings either way. */
int recnn__replace_commit(recnn__replace *r);
/* Closes fd if still >= 0, removes the temporary file, frees r's strings. */
void recnn__replace_abort(recnn__replace *r);
/* Ends a write through f (the stream over the temporary file; err: the
 * errno of a failed write, or 0): flushes, syncs and closes f, then
 * commits, or aborts on any error.  0 or the first errno. */
int recnn__replace_finish(recnn__replace *r, FILE *f, int err);

#endif
