#include "core.h"

#include <math.h>

/* "a ranks before b": higher score first, then smaller index, so the
 * order is total and deterministic; NaN ranks last. */
static inline bool before(float sa, int32_t ia, float sb, int32_t ib)
{
    if (isnan(sa))
        return isnan(sb) && ia < ib;
    if (isnan(sb))
        return true;
    return sa > sb || (sa == sb && ia < ib);
}

/* Min-heap on rank: the root is the worst of the kept candidates. */
static void sift_down(int32_t *h, int64_t n, int64_t i, const float *s)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && before(s[h[w]], h[w], s[h[l]], h[l]))
            w = l;
        if (r < n && before(s[h[w]], h[w], s[h[r]], h[r]))
            w = r;
        if (w == i)
            return;
        int32_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

int64_t recnn__topk(const float *scores, int64_t n, int64_t k, const int32_t *exclude,
                    int64_t n_exclude, int32_t *out)
{
    if (k <= 0)
        return 0;
    int64_t m = 0, e = 0;
    for (int64_t i = 0; i < n; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        if (m < k) {
            /* sift up */
            int64_t c = m++;
            out[c] = (int32_t)i;
            while (c > 0) {
                int64_t p = (c - 1) / 2;
                if (!before(scores[out[p]], out[p], scores[out[c]], out[c]))
                    break;
                int32_t t = out[p];
                out[p] = out[c];
                out[c] = t;
                c = p;
            }
        } else if (before(scores[i], (int32_t)i, scores[out[0]], out[0])) {
            out[0] = (int32_t)i;
            sift_down(out, m, 0, scores);
        }
    }
    /* heap sort: repeatedly move the worst to the end */
    for (int64_t end = m - 1; end > 0; end--) {
        int32_t t = out[0];
        out[0] = out[end];
        out[end] = t;
        sift_down(out, end, 0, scores);
    }
    return m;
}
