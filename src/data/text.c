/* Buffered line reading and number parsing for the text formats, and the
 * atomic replacement of a file that the writers share. */
#define _XOPEN_SOURCE 700 /* realpath (the Makefile's POSIX level lacks it) */
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 22) /* 4 MiB */

int recnn__open_regular(const char *path, int *fd_out)
{
    *fd_out = -1;
    if (!path)
        return recnn__fail(RECNN_E_INVALID, "path must not be NULL");
    struct stat st;
    /* checked before opening too: opening a device can have effects */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? recnn__fail(RECNN_E_IO, "%s: is a directory", path)
                                   : recnn__fail(RECNN_E_IO, "%s: not a regular file", path);
    /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return recnn__fail(RECNN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return recnn__fail(RECNN_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? recnn__fail(RECNN_E_IO, "%s: is a directory", path)
                                   : recnn__fail(RECNN_E_IO, "%s: not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    return RECNN_OK;
}

int recnn__reader_open(recnn__reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->path = path;
    int fd;
    int st = recnn__open_regular(path, &fd);
    if (st)
        return st;
    /* small files get a small buffer (it grows for long lines) */
    size_t cap = READ_CHUNK;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size + 1 < cap)
        cap = (size_t)sb.st_size + 1 < 4096 ? 4096 : (size_t)sb.st_size + 1;
    r->buf = malloc(cap);
    if (!r->buf) {
        close(fd);
        return recnn__fail(RECNN_E_NOMEM, "%s: out of memory", path);
    }
    r->cap = cap;
    r->fd = fd;
    return RECNN_OK;
}

void recnn__reader_close(recnn__reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    r->fd = -1;
    r->buf = NULL;
}

static int too_long(const recnn__reader *r)
{
    return recnn__fail(RECNN_E_FORMAT, "%s:%lld: line longer than %zu MiB", r->path,
                       (long long)r->line + 1, RECNN__MAX_LINE >> 20);
}

int recnn__reader_next(recnn__reader *r, const char **s, const char **e)
{
    for (;;) {
        char *b = r->buf + r->beg;
        char *nl = r->end > r->beg ? memchr(b, '\n', r->end - r->beg) : NULL;
        char *le;
        if (nl) {
            le = nl;
            r->beg = (size_t)(nl - r->buf) + 1;
        } else if (r->eof) {
            if (r->beg >= r->end)
                return 0;
            le = r->buf + r->end;
            r->beg = r->end;
        } else {
            /* move the partial line to the front, grow if it fills the buffer */
            size_t rest = r->end - r->beg;
            if (r->beg > 0) {
                memmove(r->buf, r->buf + r->beg, rest);
                r->beg = 0;
                r->end = rest;
            }
            if (r->end == r->cap) {
                /* room for the longest line plus "\r\n", no more */
                if (r->cap >= RECNN__MAX_LINE + 2)
                    return too_long(r);
                size_t nc = r->cap * 2 < RECNN__MAX_LINE + 2 ? r->cap * 2
                                                             : RECNN__MAX_LINE + 2;
                char *nb = realloc(r->buf, nc);
                if (!nb)
                    return recnn__fail(RECNN_E_NOMEM, "%s: out of memory", r->path);
                r->buf = nb;
                r->cap = nc;
            }
            ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                return recnn__fail(RECNN_E_IO, "%s: read error: %s", r->path,
                                   strerror(errno));
            }
            if (got == 0)
                r->eof = true;
            r->end += (size_t)got;
            continue;
        }
        if (le > b && le[-1] == '\r')
            le--;
        if ((size_t)(le - b) > RECNN__MAX_LINE)
            return too_long(r);
        r->line++;
        if (r->line == 1 && le - b >= 3 && (unsigned char)b[0] == 0xEF &&
            (unsigned char)b[1] == 0xBB && (unsigned char)b[2] == 0xBF)
            b += 3;
        *s = b;
        *e = le;
        return 1;
    }
}

int recnn__parse_i64(const char *s, const char *e, int64_t *out)
{
    bool neg = false;
    if (s < e && (*s == '-' || *s == '+')) {
        neg = *s == '-';
        s++;
    }
    if (s == e)
        return RECNN__NUM_BAD;
    uint64_t x = 0;
    bool over = false;
    for (; s < e; s++) {
        unsigned d = (unsigned)(unsigned char)*s - '0';
        if (d > 9)
            return RECNN__NUM_BAD;
        if (x > (UINT64_MAX - d) / 10)
            over = true;
        else
            x = x * 10 + d;
    }
    if (over || x > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return RECNN__NUM_OVERFLOW;
    if (neg)
        *out = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
    else
        *out = (int64_t)x;
    return RECNN__NUM_OK;
}

static bool word_is(const char *s, const char *e, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(e - s) != n)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = s[k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[k])
            return false;
    }
    return true;
}

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int recnn__parse_real(const char *s, const char *e, double *out)
{
    const char *p = s;
    bool neg = false;
    if (p < e && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (word_is(p, e, "nan") || word_is(p, e, "inf") || word_is(p, e, "infinity"))
        return RECNN__NUM_NONFINITE;
    uint64_t m = 0;
    int64_t ex = 0;
    int nd = 0;
    for (; p < e && (unsigned)(unsigned char)*p - '0' <= 9; p++, nd++) {
        if (m < 100000000000000000ULL)
            m = m * 10 + (uint64_t)(*p - '0');
        else
            ex++;
    }
    if (p < e && *p == '.') {
        p++;
        for (; p < e && (unsigned)(unsigned char)*p - '0' <= 9; p++, nd++)
            if (m < 100000000000000000ULL) {
                m = m * 10 + (uint64_t)(*p - '0');
                ex--;
            }
    }
    if (nd == 0)
        return RECNN__NUM_BAD;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '-' || *p == '+')) {
            eneg = *p == '-';
            p++;
        }
        if (p == e)
            return RECNN__NUM_BAD;
        int64_t x = 0;
        for (; p < e && (unsigned)(unsigned char)*p - '0' <= 9; p++)
            if (x < 100000)
                x = x * 10 + (*p - '0');
        ex += eneg ? -x : x;
    }
    if (p != e)
        return RECNN__NUM_BAD;
    double v = (double)m;
    if (m != 0) {
        if (ex >= 0 && ex <= 22)
            v *= pow10_tab[ex];
        else if (ex < 0 && ex >= -22)
            v /= pow10_tab[-ex];
        else
            v *= pow(10.0, (double)ex);
    }
    if (!isfinite(v))
        return RECNN__NUM_NONFINITE;
    *out = neg ? -v : v;
    return RECNN__NUM_OK;
}

int64_t recnn__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void recnn__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

int recnn__parse_date(const char *s, const char *e, int64_t *out)
{
    if (e - s != 10 || s[4] != '-' || s[7] != '-')
        return RECNN__NUM_BAD;
    int v[8];
    static const int pos[8] = {0, 1, 2, 3, 5, 6, 8, 9};
    for (int k = 0; k < 8; k++) {
        unsigned x = (unsigned)(unsigned char)s[pos[k]] - '0';
        if (x > 9)
            return RECNN__NUM_BAD;
        v[k] = (int)x;
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return RECNN__NUM_BAD;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return RECNN__NUM_BAD;
    *out = recnn__days_from_civil(y, m, d) * 86400;
    return RECNN__NUM_OK;
}

/* ---- replacing a file atomically ------------------------------------------ */

static atomic_uint replace_counter;

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int recnn__replace_begin(recnn__replace *r, const char *path)
{
    r->target = r->tmp = NULL;
    r->fd = -1;
    if (!path || !*path)
        return recnn__fail(RECNN_E_INVALID, "path must not be NULL or empty");
    struct stat st;
    bool exists = false;
    if (lstat(path, &st) == 0) {
        exists = true;
        if (S_ISLNK(st.st_mode)) {
            /* replace the file the link resolves to, keep the link */
            r->target = realpath(path, NULL);
            if (!r->target) {
                int e = errno;
                if (e == ENOMEM)
                    return recnn__fail(RECNN_E_NOMEM, "out of memory");
                return recnn__fail(RECNN_E_IO, "%s: not a regular file (a symbolic link "
                                   "that does not resolve: %s)", path, strerror(e));
            }
            if (stat(r->target, &st) != 0) {
                int e = errno;
                free(r->target);
                r->target = NULL;
                return recnn__fail(RECNN_E_IO, "%s: cannot access: %s", path, strerror(e));
            }
        }
        if (!S_ISREG(st.st_mode)) {
            free(r->target);
            r->target = NULL;
            return recnn__fail(RECNN_E_IO, "%s: not a regular file", path);
        }
    } else if (errno != ENOENT) {
        return recnn__fail(RECNN_E_IO, "%s: cannot access: %s", path, strerror(errno));
    }
    if (!r->target && !(r->target = strdup(path)))
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    /* the temporary file: ".recnn-XXXXXX" in the target's directory */
    const char *slash = strrchr(r->target, '/');
    size_t dl = slash ? (size_t)(slash - r->target) + 1 : 0;
    r->tmp = malloc(dl + 16);
    if (!r->tmp) {
        recnn__replace_abort(r);
        return recnn__fail(RECNN_E_NOMEM, "out of memory");
    }
    memcpy(r->tmp, r->target, dl);
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
                    (uint64_t)(uintptr_t)r;
    int e = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t x = mix64(seed ^ mix64(atomic_fetch_add(&replace_counter, 1u)));
        char *w = r->tmp + dl;
        memcpy(w, ".recnn-", 7);
        for (int k = 0; k < 6; k++, x /= 62)
            w[7 + k] = abc[x % 62];
        w[13] = '\0';
        /* 0666: the kernel applies the umask (and any default ACL) */
        r->fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (r->fd >= 0 || errno != EEXIST)
            break;
    }
    if (r->fd < 0) {
        e = errno;
        free(r->tmp);
        r->tmp = NULL;
        recnn__replace_abort(r);
        return recnn__fail(RECNN_E_IO, "%s: cannot create a temporary file: %s", path,
                           strerror(e));
    }
    if (exists) {
        /* keep the replaced file's owner (when allowed) and mode */
        struct stat now;
        if (fstat(r->fd, &now) == 0 && (now.st_uid != st.st_uid || now.st_gid != st.st_gid))
            if (fchown(r->fd, st.st_uid, st.st_gid) != 0) {
                /* not permitted: the new file stays the caller's */
            }
        if (fchmod(r->fd, st.st_mode & 07777) != 0) {
            e = errno;
            recnn__replace_abort(r);
            return recnn__fail(RECNN_E_IO, "%s: cannot set the mode of the temporary file: "
                               "%s", path, strerror(e));
        }
    }
    return RECNN_OK;
}

/* Best effort: makes the rename durable.  Failures are ignored (some file
 * systems cannot fsync a directory). */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = strdup(".");
    } else {
        size_t l = slash == path ? 1 : (size_t)(slash - path);
        dir = malloc(l + 1);
        if (dir) {
            memcpy(dir, path, l);
            dir[l] = '\0';
        }
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int recnn__replace_commit(recnn__replace *r)
{
    int e = 0;
    if (rename(r->tmp, r->target) != 0) {
        e = errno ? errno : EIO;
        unlink(r->tmp);
    } else {
        sync_dir_of(r->target);
    }
    free(r->tmp);
    free(r->target);
    r->tmp = r->target = NULL;
    r->fd = -1;
    return e;
}

int recnn__replace_finish(recnn__replace *r, FILE *f, int err)
{
    if (!err && fflush(f) != 0)
        err = errno ? errno : EIO;
    if (!err && fsync(fileno(f)) != 0)
        err = errno ? errno : EIO;
    if (fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    r->fd = -1; /* closed with f */
    if (err) {
        recnn__replace_abort(r);
        return err;
    }
    return recnn__replace_commit(r);
}

void recnn__replace_abort(recnn__replace *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->tmp)
        unlink(r->tmp);
    free(r->tmp);
    free(r->target);
    r->tmp = r->target = NULL;
    r->fd = -1;
}
