/* Command-line helpers shared by the example programs (header-only: each
 * example is one translation unit). */
#ifndef RECNN_EXAMPLES_ARGS_H
#define RECNN_EXAMPLES_ARGS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <recnn.h>

/* A whole decimal number in [lo, hi] (no sign, nothing after it) into *out;
 * 0 when s is anything else. */
static inline int arg_uint(const char *s, unsigned long long lo, unsigned long long hi,
                           unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || *end || errno || *s == '-' || *s == '+' || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

/* Sets the library's thread budget (n <= 0: leave the default; callers
 * parse n within int); prints the library's refusal as "prog: --threads n:
 * why" and returns 0 then. */
static inline int arg_threads(const char *prog, long long n)
{
    if (n > 0 && recnn_set_num_threads((int)n) != RECNN_OK) {
        fprintf(stderr, "%s: --threads %lld: %s\n", prog, n, recnn_last_error());
        return 0;
    }
    return 1;
}

#endif
