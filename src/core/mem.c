#include "core.h"

#include <stdlib.h>
#include <string.h>

bool recnn__mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

void *recnn__alloc(size_t n, size_t size)
{
    size_t bytes;
    if (!recnn__mul_ok(n, size, &bytes) || bytes > SIZE_MAX - RECNN_ALIGN) {
        recnn__fail(RECNN_E_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    /* aligned_alloc wants a multiple of the alignment. */
    bytes = (bytes + RECNN_ALIGN - 1) / RECNN_ALIGN * RECNN_ALIGN;
    if (bytes == 0)
        bytes = RECNN_ALIGN;
    void *p = aligned_alloc(RECNN_ALIGN, bytes);
    if (!p)
        recnn__fail(RECNN_E_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *recnn__calloc(size_t n, size_t size)
{
    void *p = recnn__alloc(n, size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *recnn__realloc(void *p, size_t old_n, size_t new_n, size_t size)
{
    void *q = recnn__alloc(new_n, size);
    if (!q)
        return NULL;
    if (p) {
        memcpy(q, p, (old_n < new_n ? old_n : new_n) * size);
        free(p);
    }
    return q;
}

void recnn__free(void *p) { free(p); }
