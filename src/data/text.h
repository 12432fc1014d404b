/* Internal helpers of the text loaders and writers: a buffered line reader
 * and hand-written number parsers (no sscanf/strtod in the hot loop). */
#ifndef RECNN_DATA_TEXT_H
#define RECNN_DATA_TEXT_H

#include "dataset.h"

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

/* RECNN_E_IO (with "path: cannot open: ...") when the file cannot be read. */
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

#endif
