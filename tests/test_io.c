/* Model persistence: round trips (bit-identical predictions and
 * recommendations), refusal of every byte flip and every truncation,
 * foreign / future-version / unknown-kind files, files whose checksums
 * are right but whose content is inconsistent, and crash-safe saving (a
 * failed save leaves the previous file byte-identical and no temporary
 * file behind); what saving does to the path it is given (a FIFO or a
 * device is refused, a symbolic link is followed, the mode of a replaced
 * file is kept, any valid file name works); non-finite parameters. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fixtures.h"
#include "core/core.h"
#include "data/dataset.h"
#include "io/io.h"
#include "models/model.h"

static int quick(void)
{
    const char *q = getenv("RECNN_TEST_QUICK");
    return q && *q && *q != '0';
}

/* ---- fixtures ------------------------------------------------------------ */

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/recnn_test_io_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static int count_dir_entries(void) { return test_dir_entries(tmpdir); }

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void write_all(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* A random rating set with sparse, non-contiguous external ids (users
 * 1000 + 7u, items 50 + 3i), ratings 1..5, each pair with probability
 * `density`; every user and item gets at least one rating. */
static recnn_dataset *make_data(int nu, int ni, double density, uint64_t seed)
{
    recnn_rng r;
    recnn__rng_seed(&r, seed);
    size_t cap = (size_t)nu * (size_t)ni, n = 0;
    int64_t *u = malloc(cap * sizeof *u), *it = malloc(cap * sizeof *it);
    float *v = malloc(cap * sizeof *v);
    ck_assert(u && it && v);
    for (int a = 0; a < nu; a++)
        for (int b = 0; b < ni; b++)
            if (a == b % nu || b == a % ni || recnn__rng_uniform(&r) < density) {
                u[n] = 1000 + 7 * a;
                it[n] = 50 + 3 * b;
                v[n] = (float)(1 + recnn__rng_below(&r, 5));
                n++;
            }
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_from_arrays(&d, n, u, it, v, NULL, 1, 5, 0), RECNN_OK);
    free(u);
    free(it);
    free(v);
    return d;
}

static recnn_model *fit_model(const char *kind, const char *settings,
                              const recnn_dataset *d)
{
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, kind), RECNN_OK);
    if (settings)
        ck_assert_int_eq(recnn_model_configure(m, settings), RECNN_OK);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    return m;
}

/* Asserts that two models answer everything identically, bit for bit:
 * predictions for every (known and unknown) pair, every user's top-k,
 * fold-in, id conversions, settings. */
static void assert_same_model(const recnn_model *a, const recnn_model *b)
{
    ck_assert_str_eq(recnn_model_kind(a), recnn_model_kind(b));
    char sa[1024], sb[1024];
    recnn_model_settings_string(a, sa, sizeof sa);
    recnn_model_settings_string(b, sb, sizeof sb);
    ck_assert_str_eq(sa, sb);
    ck_assert_int_eq(recnn_model_is_fitted(b), 1);
    int64_t nu = recnn_model_n_users(a), ni = recnn_model_n_items(a);
    ck_assert_int_eq(recnn_model_n_users(b), nu);
    ck_assert_int_eq(recnn_model_n_items(b), ni);
    ck_assert_int_gt(ni, 0);
    /* external ids of both index spaces, plus ids unknown to the model */
    const recnn__idmap *um = a->users, *im = a->items;
    size_t np = (size_t)(nu + 2) * (size_t)(ni + 2);
    int64_t *pu = malloc(np * sizeof *pu), *pi = malloc(np * sizeof *pi);
    float *oa = malloc(np * sizeof *oa), *ob = malloc(np * sizeof *ob);
    ck_assert(pu && pi && oa && ob);
    size_t k = 0;
    for (int64_t x = 0; x < nu + 2; x++)
        for (int64_t y = 0; y < ni + 2; y++) {
            pu[k] = x < nu ? um->ext[x] : -5 - x;
            pi[k] = y < ni ? im->ext[y] : -7 - y;
            k++;
        }
    ck_assert_int_eq(recnn_model_predict_batch(a, np, pu, pi, oa), RECNN_OK);
    ck_assert_int_eq(recnn_model_predict_batch(b, np, pu, pi, ob), RECNN_OK);
    ck_assert_int_eq(memcmp(oa, ob, np * sizeof *oa), 0);

    int64_t ra[10], rb[10];
    float fa[10], fb[10];
    for (int64_t x = 0; x < nu; x++) {
        size_t na = 0, nb = 0;
        int64_t id = um->ext[x];
        ck_assert_int_eq(recnn_model_recommend(a, id, 10, ra, fa, &na), RECNN_OK);
        ck_assert_int_eq(recnn_model_recommend(b, id, 10, rb, fb, &nb), RECNN_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(ra, rb, na * sizeof *ra), 0);
        ck_assert_int_eq(memcmp(fa, fb, na * sizeof *fa), 0);
        int64_t ia, ib;
        ck_assert_int_eq(recnn_model_user_index(b, id, &ib), RECNN_OK);
        ck_assert_int_eq(recnn_model_user_index(a, id, &ia), RECNN_OK);
        ck_assert_int_eq(ia, ib);
    }
    for (int64_t y = 0; y < ni; y++) {
        int64_t ea, eb;
        ck_assert_int_eq(recnn_model_item_id(a, y, &ea), RECNN_OK);
        ck_assert_int_eq(recnn_model_item_id(b, y, &eb), RECNN_OK);
        ck_assert_int_eq(ea, eb);
    }
    int64_t rated[3] = {im->ext[0], im->ext[ni - 1], 999999};
    float rv[3] = {5, 2, 4};
    size_t na = 0, nb = 0;
    int sa_st = recnn_model_recommend_new(a, 3, rated, rv, 10, ra, fa, &na);
    int sb_st = recnn_model_recommend_new(b, 3, rated, rv, 10, rb, fb, &nb);
    ck_assert_int_eq(sa_st, sb_st);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(ra, rb, na * sizeof *ra), 0);
    ck_assert_int_eq(memcmp(fa, fb, na * sizeof *fa), 0);
    free(pu);
    free(pi);
    free(oa);
    free(ob);
}

/* ---- a test-side view of the file layout --------------------------------- */

typedef struct tsec {
    char tag[4];
    uint64_t len;
    unsigned char *p; /* points into the parsed buffer or a replacement */
} tsec;

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static void st64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void st32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

/* Splits a valid file into its sections (END! included); returns count. */
static int parse_sections(unsigned char *b, size_t n, tsec *s, int max)
{
    size_t off = RECNN__MODEL_HEADER_BYTES;
    int k = 0;
    while (off < n) {
        ck_assert_int_lt(k, max);
        memcpy(s[k].tag, b + off, 4);
        s[k].len = le64(b + off + 4);
        s[k].p = b + off + 12;
        off += 12 + s[k].len + 4;
        k++;
    }
    ck_assert_uint_eq(off, n);
    ck_assert(k > 0 && s[k - 1].tag[0] == 'E' && s[k - 1].tag[3] == '!');
    return k;
}

/* Re-serialises header + sections with correct checksums (the END!
 * section is recomputed).  Returns a malloc'd buffer. */
static unsigned char *build_file(const unsigned char *hdr, tsec *s, int ns, size_t *n)
{
    size_t total = RECNN__MODEL_HEADER_BYTES;
    for (int k = 0; k < ns; k++)
        total += 12 + (memcmp(s[k].tag, "END!", 4) ? s[k].len : 8) + 4;
    unsigned char *b = malloc(total), *p = b;
    ck_assert_ptr_nonnull(b);
    memcpy(p, hdr, RECNN__MODEL_HEADER_BYTES);
    p += RECNN__MODEL_HEADER_BYTES;
    for (int k = 0; k < ns; k++) {
        unsigned char endp[8];
        const unsigned char *payload = s[k].p;
        uint64_t len = s[k].len;
        if (memcmp(s[k].tag, "END!", 4) == 0) {
            st32(endp, (uint32_t)(ns - 1));
            st32(endp + 4, recnn__crc32c(0, b, (size_t)(p - b)));
            payload = endp;
            len = 8;
        }
        unsigned char *start = p;
        memcpy(p, s[k].tag, 4);
        st64(p + 4, len);
        memcpy(p + 12, payload, len);
        p += 12 + len;
        st32(p, recnn__crc32c(0, start, (size_t)(p - start)));
        p += 4;
    }
    ck_assert_uint_eq((size_t)(p - b), total);
    *n = total;
    return b;
}

static int find_section(tsec *s, int ns, const char *tag)
{
    for (int k = 0; k < ns; k++)
        if (memcmp(s[k].tag, tag, 4) == 0)
            return k;
    ck_abort_msg("no section %s", tag);
    return -1;
}

static int load_mem(const void *b, size_t n)
{
    recnn_model *m = (recnn_model *)&m; /* must be reset to NULL */
    int st = recnn__model_load_mem(&m, b, n);
    if (st == RECNN_OK)
        recnn_model_free(m);
    else
        ck_assert_ptr_null(m);
    return st;
}

/* A small saved popularity model (a few hundred bytes). */
static unsigned char *small_file(size_t *n)
{
    recnn_dataset *d = make_data(4, 5, 0.3, 11);
    recnn_model *m = fit_model("popularity", "default_rating=4", d);
    char p[512];
    path_in(p, sizeof p, "small.rmdl");
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_OK);
    recnn_model_free(m);
    recnn_dataset_free(d);
    unsigned char *b = read_all(p, n);
    unlink(p);
    return b;
}

/* ---- tests ----------------------------------------------------------------- */

static void roundtrip(const char *kind, const char *settings, int nu, int ni)
{
    make_tmpdir();
    recnn_dataset *d = make_data(nu, ni, 0.2, 3);
    recnn_model *a = fit_model(kind, settings, d);
    recnn_dataset_free(d); /* the model keeps what it needs */
    char p[512], q[512];
    path_in(p, sizeof p, "m.rmdl");
    path_in(q, sizeof q, "m2.rmdl");
    ck_assert_int_eq(recnn_model_save(a, p), RECNN_OK);
    recnn_model *b = (recnn_model *)&b;
    ck_assert_int_eq(recnn_model_load(&b, p), RECNN_OK);
    ck_assert_ptr_nonnull(b);
    assert_same_model(a, b);
    /* the loaded model saves to the very same bytes */
    ck_assert_int_eq(recnn_model_save(b, q), RECNN_OK);
    size_t n1, n2;
    unsigned char *b1 = read_all(p, &n1), *b2 = read_all(q, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    /* and a load from memory gives the same model */
    recnn_model *c = NULL;
    ck_assert_int_eq(recnn__model_load_mem(&c, b1, n1), RECNN_OK);
    assert_same_model(a, c);
    /* settings stay fixed on a loaded model */
    ck_assert_int_eq(recnn_model_configure(b, "default_rating=1"), RECNN_E_STATE);
    free(b1);
    free(b2);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_model_free(c);
    remove_tmpdir();
}

START_TEST(test_roundtrip_popularity)
{
    roundtrip("popularity", NULL, 30, 20);
    roundtrip("popularity", "weight=rating default_rating=-2.25", 17, 40);
}
END_TEST

START_TEST(test_roundtrip_ease)
{
    roundtrip("ease", "l2=3.5", 25, 18);
    roundtrip("ease", "values=rating l2=10", 19, 23);
}
END_TEST

/* Every registered kind that can be fitted on plain ratings round-trips
 * with default settings (picks up models added later). */
START_TEST(test_roundtrip_all_kinds)
{
    char kinds[512];
    snprintf(kinds, sizeof kinds, "%s", recnn_model_kinds());
    make_tmpdir();
    recnn_dataset *d = make_data(12, 9, 0.4, 5);
    char p[512];
    path_in(p, sizeof p, "k.rmdl");
    for (char *save, *k = strtok_r(kinds, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
        recnn_model *a = NULL, *b = NULL;
        ck_assert_int_eq(recnn_model_create(&a, k), RECNN_OK);
        /* keep trained models small and fast (settings a kind lacks are
         * simply not found) */
        recnn_model_set_int(a, "epochs", 2);
        recnn_model_set_int(a, "pretrain_epochs", 1);
        recnn_model_set_int(a, "bsl_epochs", 2);
        recnn_model_set_int(a, "hidden", 8);
        recnn_model_set_int(a, "factors", 4);
        if (recnn_model_fit(a, d, NULL) != RECNN_OK) {
            printf("test_io: kind %s did not fit on toy data (%s); skipped\n", k,
                   recnn_last_error());
            recnn_model_free(a);
            continue;
        }
        int st = recnn_model_save(a, p);
        if (st == RECNN_E_UNSUPPORTED) {
            recnn_model_free(a);
            continue;
        }
        ck_assert_msg(st == RECNN_OK, "%s: %s", k, recnn_last_error());
        ck_assert_msg(recnn_model_load(&b, p) == RECNN_OK, "%s: %s", k,
                      recnn_last_error());
        assert_same_model(a, b);
        recnn_model_free(a);
        recnn_model_free(b);
    }
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* String ids of the id maps survive a round trip, NULL entries included. */
START_TEST(test_roundtrip_names)
{
    make_tmpdir();
    recnn_dataset *d = make_data(5, 4, 0.5, 9);
    recnn__idmap *um = d->users;
    um->names = calloc((size_t)um->n, sizeof *um->names);
    for (int64_t k = 0; k < um->n; k++)
        if (k != 2) {
            um->names[k] = malloc(32);
            snprintf(um->names[k], 32, "user-%lld-\xc3\xa9", (long long)(k * 11));
        }
    recnn_model *a = fit_model("popularity", NULL, d);
    char p[512];
    path_in(p, sizeof p, "n.rmdl");
    ck_assert_int_eq(recnn_model_save(a, p), RECNN_OK);
    recnn_model *b = NULL;
    ck_assert_int_eq(recnn_model_load(&b, p), RECNN_OK);
    ck_assert_ptr_nonnull(b->users->names);
    ck_assert_ptr_null(b->items->names);
    for (int64_t k = 0; k < um->n; k++) {
        if (k == 2) {
            ck_assert_ptr_null(b->users->names[k]);
            continue;
        }
        ck_assert_str_eq(b->users->names[k], um->names[k]);
        ck_assert_int_eq(recnn__idmap_find_name(b->users, um->names[k]), (int)k);
    }
    assert_same_model(a, b);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(test_every_byte_flip_refused)
{
    make_tmpdir();
    size_t n;
    unsigned char *b = small_file(&n);
    ck_assert_uint_gt(n, 100);
    ck_assert_int_eq(load_mem(b, n), RECNN_OK);
    int counts[12] = {0};
    for (size_t pos = 0; pos < n; pos++)
        for (int f = 0; f < 3; f++) {
            static const unsigned char flips[3] = {0x01, 0x80, 0xff};
            b[pos] ^= flips[f];
            int st = load_mem(b, n);
            ck_assert_msg(st == RECNN_E_CORRUPT || st == RECNN_E_FORMAT ||
                              st == RECNN_E_VERSION || st == RECNN_E_NOTFOUND,
                          "flip 0x%02x at %zu gave %d (%s)", flips[f], pos, st,
                          recnn_last_error());
            counts[-st]++;
            b[pos] ^= flips[f];
        }
    /* the magic gives "foreign", everything else "corrupt" */
    ck_assert_int_eq(counts[-RECNN_E_FORMAT], 8 * 3);
    ck_assert_int_eq(counts[-RECNN_E_CORRUPT], (int)(n - 8) * 3);
    ck_assert_int_eq(load_mem(b, n), RECNN_OK);
    free(b);
    remove_tmpdir();
}
END_TEST

/* A larger EASE file: flips at a spread of positions (every position when
 * not quick would take too long for a 40 KB file under valgrind). */
START_TEST(test_byte_flips_sampled_large)
{
    make_tmpdir();
    recnn_dataset *d = make_data(40, 60, 0.15, 21);
    recnn_model *m = fit_model("ease", "values=rating", d);
    char p[512];
    path_in(p, sizeof p, "e.rmdl");
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_OK);
    size_t n;
    unsigned char *b = read_all(p, &n);
    ck_assert_uint_gt(n, 14000);
    size_t step = quick() ? 97 : 7;
    for (size_t pos = 0; pos < n; pos += step) {
        b[pos] ^= 0x10;
        int st = load_mem(b, n);
        ck_assert_msg(st == RECNN_E_CORRUPT || st == RECNN_E_FORMAT,
                      "flip at %zu gave %d", pos, st);
        b[pos] ^= 0x10;
    }
    b[n - 1] ^= 0x10; /* the very last byte too */
    ck_assert_int_eq(load_mem(b, n), RECNN_E_CORRUPT);
    free(b);
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(test_every_truncation_refused)
{
    make_tmpdir();
    size_t n;
    unsigned char *b = small_file(&n);
    for (size_t len = 0; len < n; len++) {
        /* a fresh copy of exactly len bytes, so ASan sees any overread */
        unsigned char *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        int st = load_mem(len ? c : NULL, len);
        ck_assert_msg(st == RECNN_E_CORRUPT, "length %zu gave %d", len, st);
        free(c);
    }
    /* through real files as well, at a few lengths */
    char p[512];
    path_in(p, sizeof p, "t.rmdl");
    size_t lens[] = {0, 3, 8, 23, 24, 40, n / 2, n - 5, n - 1};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        write_all(p, b, lens[k]);
        recnn_model *m = (recnn_model *)&m;
        ck_assert_int_eq(recnn_model_load(&m, p), RECNN_E_CORRUPT);
        ck_assert_ptr_null(m);
    }
    /* a trailing byte is refused too */
    unsigned char *c = malloc(n + 1);
    memcpy(c, b, n);
    c[n] = 0;
    ck_assert_int_eq(load_mem(c, n + 1), RECNN_E_CORRUPT);
    free(c);
    free(b);
    remove_tmpdir();
}
END_TEST

START_TEST(test_foreign_files)
{
    make_tmpdir();
    char p[512];
    path_in(p, sizeof p, "f.txt");
    const char *text = "user,item,rating\n1,2,3\n4,5,1\n";
    write_all(p, text, strlen(text));
    recnn_model *m = (recnn_model *)&m;
    ck_assert_int_eq(recnn_model_load(&m, p), RECNN_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "magic"));
    ck_assert_int_eq(load_mem("RECNNMDX", 8), RECNN_E_FORMAT);
    ck_assert_int_eq(load_mem("R", 1), RECNN_E_CORRUPT); /* a prefix: truncated */
    ck_assert_int_eq(load_mem("X", 1), RECNN_E_FORMAT);
    /* missing file, directory */
    path_in(p, sizeof p, "absent.rmdl");
    ck_assert_int_eq(recnn_model_load(&m, p), RECNN_E_IO);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(recnn_model_load(&m, tmpdir), RECNN_E_IO);
    char fifo[512];
    path_in(fifo, sizeof fifo, "fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(recnn_model_load(&m, fifo), RECNN_E_IO); /* does not block */
    unlink(fifo);
    ck_assert_int_eq(recnn_model_load(NULL, p), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_load(&m, NULL), RECNN_E_INVALID);
    unlink(p);
    path_in(p, sizeof p, "f.txt");
    unlink(p);
    remove_tmpdir();
}
END_TEST

/* Re-signs a header after changing a field. */
static void resign_header(unsigned char *b)
{
    st32(b + 20, recnn__crc32c(0, b, 20));
}

START_TEST(test_header_fields)
{
    make_tmpdir();
    size_t n;
    unsigned char *b = small_file(&n);
    /* a future format version, correctly checksummed */
    st32(b + 8, RECNN__MODEL_FORMAT_VERSION + 1);
    resign_header(b);
    ck_assert_int_eq(load_mem(b, n), RECNN_E_VERSION);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "newer"));
    st32(b + 8, 0);
    resign_header(b);
    ck_assert_int_eq(load_mem(b, n), RECNN_E_CORRUPT);
    st32(b + 8, RECNN__MODEL_FORMAT_VERSION);
    resign_header(b);
    ck_assert_int_eq(load_mem(b, n), RECNN_OK);
    /* a byte-swapped file (big-endian writer) */
    st32(b + 12, 0x04030201u);
    resign_header(b);
    ck_assert_int_eq(load_mem(b, n), RECNN_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "byte-order"));
    st32(b + 12, RECNN__MODEL_ENDIAN_MARK);
    st32(b + 16, 7); /* reserved */
    resign_header(b);
    ck_assert_int_eq(load_mem(b, n), RECNN_E_CORRUPT);
    free(b);
    remove_tmpdir();
}
END_TEST

/* Files whose checksums are all right but whose content is not: each is
 * refused with a clear status and nothing leaks (valgrind/ASan). */
START_TEST(test_checksummed_but_inconsistent)
{
    make_tmpdir();
    size_t n, m;
    unsigned char *b = small_file(&n);
    tsec s[16];
    int ns = parse_sections(b, n, s, 16);
    ck_assert_int_eq(ns, 8); /* KIND CONF DIMS UMAP IMAP SEEN TNSR END! */

    /* rebuilding without change gives the same bytes */
    unsigned char *c = build_file(b, s, ns, &m);
    ck_assert_uint_eq(m, n);
    ck_assert_int_eq(memcmp(b, c, n), 0);
    free(c);

    /* unknown kind */
    int k = find_section(s, ns, "KIND");
    tsec save = s[k];
    s[k].p = (unsigned char *)"no-such-model";
    s[k].len = 13;
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "no-such-model"));
    free(c);
    s[k] = save;

    /* settings this library does not know */
    k = find_section(s, ns, "CONF");
    save = s[k];
    s[k].p = (unsigned char *)"weight=count frobnicate=3";
    s[k].len = strlen((char *)s[k].p);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_FORMAT);
    free(c);
    /* a value that does not read back as written */
    s[k].p = (unsigned char *)"weight=count default_rating=0.50";
    s[k].len = strlen((char *)s[k].p);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_FORMAT);
    free(c);
    /* a file from before a setting existed: the missing key takes its
     * default (here default_rating saved as 4, then left out) */
    s[k].p = (unsigned char *)"weight=count";
    s[k].len = strlen((char *)s[k].p);
    c = build_file(b, s, ns, &m);
    recnn_model *old = NULL;
    ck_assert_int_eq(recnn__model_load_mem(&old, c, m), RECNN_OK);
    double dr = -1;
    ck_assert_int_eq(recnn_model_get_float(old, "default_rating", &dr), RECNN_OK);
    ck_assert(dr == 0.0);
    recnn_model_free(old);
    free(c);
    s[k] = save;

    /* a seen item out of range, then unsorted */
    k = find_section(s, ns, "SEEN");
    unsigned char *seen = malloc(s[k].len);
    memcpy(seen, s[k].p, s[k].len);
    save = s[k];
    s[k].p = seen;
    uint64_t rows = le64(seen);
    unsigned char *items = seen + 16 + 8 * (rows + 1);
    st32(items, 5); /* n_items is 5 */
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    memcpy(seen, save.p, save.len);
    st64(seen + 16 + 8, 1u << 30); /* ptr[1]: not monotone / past nnz */
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    memcpy(seen, save.p, save.len);
    st64(seen + 8, UINT64_MAX / 2); /* a huge nnz: no huge allocation */
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    s[k] = save;
    free(seen);

    /* an external id twice in the user map */
    k = find_section(s, ns, "UMAP");
    unsigned char *um = malloc(s[k].len);
    memcpy(um, s[k].p, s[k].len);
    save = s[k];
    s[k].p = um;
    memcpy(um + 16 + 8, um + 16, 8);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "twice"));
    free(c);
    s[k] = save;
    free(um);

    /* dimensions that disagree with the maps; absurd dimensions */
    k = find_section(s, ns, "DIMS");
    unsigned char dims[32];
    memcpy(dims, s[k].p, 32);
    save = s[k];
    s[k].p = dims;
    st64(dims, le64(dims) + 1);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    st64(dims, UINT64_MAX);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    s[k] = save;

    /* a tensor the model does not expect (count), and a huge count */
    k = find_section(s, ns, "TNSR");
    unsigned char *tn = malloc(s[k].len);
    memcpy(tn, s[k].p, s[k].len);
    save = s[k];
    s[k].p = tn;
    s[k].len -= 4; /* one float fewer */
    st64(tn + 8, le64(tn + 8) - 1);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "rejected"));
    free(c);
    s[k].len = save.len;
    memcpy(tn, save.p, save.len);
    st64(tn + 8, (uint64_t)1 << 61);
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    memcpy(tn, save.p, save.len);
    st32(tn + 4, 9); /* unknown dtype */
    c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    s[k] = save;
    free(tn);

    /* a tensor twice; sections out of order; END! missing */
    tsec s2[16];
    memcpy(s2, s, sizeof(tsec) * (size_t)ns);
    s2[ns] = s2[ns - 1];
    s2[ns - 1] = s2[ns - 2];
    c = build_file(b, s2, ns + 1, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    memcpy(s2, s, sizeof(tsec) * (size_t)ns);
    s2[1] = s[2];
    s2[2] = s[1];
    c = build_file(b, s2, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);
    c = build_file(b, s, ns - 1, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
    free(c);

    /* a huge section length, with the section checksum left as is */
    c = malloc(n);
    memcpy(c, b, n);
    st64(c + RECNN__MODEL_HEADER_BYTES + 4, UINT64_MAX - 3);
    ck_assert_int_eq(load_mem(c, n), RECNN_E_CORRUPT);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "remain"));
    free(c);
    free(b);
    remove_tmpdir();
}
END_TEST

START_TEST(test_save_errors)
{
    make_tmpdir();
    recnn_dataset *d = make_data(6, 6, 0.3, 1);
    recnn_model *m = NULL;
    ck_assert_int_eq(recnn_model_create(&m, "ease"), RECNN_OK);
    char p[512];
    path_in(p, sizeof p, "x.rmdl");
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_E_STATE); /* not trained */
    ck_assert_int_eq(count_dir_entries(), 0);
    ck_assert_int_eq(recnn_model_save(NULL, p), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_fit(m, d, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_model_save(m, NULL), RECNN_E_INVALID);
    ck_assert_int_eq(recnn_model_save(m, ""), RECNN_E_INVALID);
    path_in(p, sizeof p, "no/such/dir/x.rmdl");
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_E_IO);
    ck_assert_int_eq(count_dir_entries(), 0);
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* A save that fails part way (simulated full disk at many points, and a
 * real EFBIG from RLIMIT_FSIZE) leaves the previous file byte-identical
 * and no temporary file. */
START_TEST(test_save_failure_keeps_old_file)
{
    make_tmpdir();
    recnn_dataset *d1 = make_data(8, 7, 0.3, 2), *d2 = make_data(30, 40, 0.3, 3);
    recnn_model *a = fit_model("popularity", NULL, d1);
    recnn_model *b = fit_model("ease", NULL, d2);
    char p[512];
    path_in(p, sizeof p, "keep.rmdl");
    ck_assert_int_eq(recnn_model_save(a, p), RECNN_OK);
    size_t n0;
    unsigned char *old = read_all(p, &n0);
    int64_t cuts[] = {0, 1, 24, 100, 1000, 5000, 6000};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        recnn__io_inject_write_failure(cuts[k]);
        int st = recnn_model_save(b, p);
        recnn__io_inject_write_failure(-1);
        ck_assert_int_eq(st, RECNN_E_IO);
        ck_assert_ptr_nonnull(strstr(recnn_last_error(), "unchanged"));
        size_t n1;
        unsigned char *now = read_all(p, &n1);
        ck_assert_uint_eq(n1, n0);
        ck_assert_int_eq(memcmp(now, old, n0), 0);
        free(now);
        ck_assert_int_eq(count_dir_entries(), 1); /* no temporary left */
    }
    /* a real write error: the file-size limit */
    struct rlimit saved, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    small = saved;
    small.rlim_cur = 512;
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        int st = recnn_model_save(b, p);
        setrlimit(RLIMIT_FSIZE, &saved);
        ck_assert_int_eq(st, RECNN_E_IO);
        size_t n1;
        unsigned char *now = read_all(p, &n1);
        ck_assert_uint_eq(n1, n0);
        ck_assert_int_eq(memcmp(now, old, n0), 0);
        free(now);
        ck_assert_int_eq(count_dir_entries(), 1);
    }
    signal(SIGXFSZ, prev);
    /* and the next save replaces the file with a loadable new model */
    ck_assert_int_eq(recnn_model_save(b, p), RECNN_OK);
    recnn_model *c = NULL;
    ck_assert_int_eq(recnn_model_load(&c, p), RECNN_OK);
    ck_assert_str_eq(recnn_model_kind(c), "ease");
    assert_same_model(b, c);
    ck_assert_int_eq(count_dir_entries(), 1);
    /* the file is created with ordinary permissions (umask applies) */
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_ne(sb.st_mode & 0044, 0);
    free(old);
    recnn_model_free(a);
    recnn_model_free(b);
    recnn_model_free(c);
    recnn_dataset_free(d1);
    recnn_dataset_free(d2);
    remove_tmpdir();
}
END_TEST

/* ---- what saving does to the path ------------------------------------------ */

/* A FIFO, a symbolic link to a FIFO and to a directory, a dangling link:
 * refused with RECNN_E_IO "not a regular file", nothing created or
 * replaced, no blocking.  A link to a regular file: the file it points to
 * is replaced, the link stays a link. */
START_TEST(test_save_special_paths)
{
    make_tmpdir();
    recnn_dataset *d = make_data(5, 6, 0.3, 21);
    recnn_model *m = fit_model("popularity", NULL, d);
    char fifo[512], link[512], target[512], p[512];
    path_in(fifo, sizeof fifo, "fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(recnn_model_save(m, fifo), RECNN_E_IO);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not a regular file"));
    struct stat sb;
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode)); /* still the FIFO */
    ck_assert_int_eq(count_dir_entries(), 1);

    path_in(link, sizeof link, "to_fifo");
    ck_assert_int_eq(symlink(fifo, link), 0);
    ck_assert_int_eq(recnn_model_save(m, link), RECNN_E_IO);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not a regular file"));
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    ck_assert_int_eq(count_dir_entries(), 2);
    unlink(link);

    path_in(link, sizeof link, "to_dir");
    ck_assert_int_eq(symlink(tmpdir, link), 0);
    ck_assert_int_eq(recnn_model_save(m, link), RECNN_E_IO);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not a regular file"));
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    unlink(link);

    /* a dangling link: not followed into creating its target */
    path_in(link, sizeof link, "dangling");
    path_in(target, sizeof target, "absent.rmdl");
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(recnn_model_save(m, link), RECNN_E_IO);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not a regular file"));
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_ne(lstat(target, &sb), 0);
    ck_assert_int_eq(count_dir_entries(), 2); /* fifo, dangling */
    unlink(link);

    /* a link to a regular file (a relative link): the file is replaced */
    path_in(target, sizeof target, "real.rmdl");
    write_all(target, "old", 3);
    path_in(link, sizeof link, "current.rmdl");
    ck_assert_int_eq(symlink("real.rmdl", link), 0);
    ck_assert_int_eq(recnn_model_save(m, link), RECNN_OK);
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    recnn_model *b = NULL;
    ck_assert_int_eq(recnn_model_load(&b, target), RECNN_OK);
    assert_same_model(m, b);
    recnn_model_free(b);
    ck_assert_int_eq(count_dir_entries(), 3); /* fifo, real, link: no temporary */

    /* a directory itself */
    ck_assert_int_eq(recnn_model_save(m, tmpdir), RECNN_E_IO);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "not a regular file"));
    path_in(p, sizeof p, "fifo");
    ck_assert_int_eq(lstat(p, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* Replacing a file keeps its mode; a new file gets 0666 minus the umask. */
START_TEST(test_save_permissions)
{
    make_tmpdir();
    recnn_dataset *d = make_data(5, 6, 0.3, 22);
    recnn_model *m = fit_model("popularity", NULL, d);
    char p[512];
    path_in(p, sizeof p, "private.rmdl");
    write_all(p, "old", 3);
    ck_assert_int_eq(chmod(p, 0600), 0);
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_OK);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    ck_assert_int_eq(chmod(p, 0640), 0);
    ck_assert_int_eq(recnn_model_save(m, p), RECNN_OK);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0640);
    recnn_model *b = NULL;
    ck_assert_int_eq(recnn_model_load(&b, p), RECNN_OK);
    recnn_model_free(b);
    /* new files: the umask applies */
    mode_t old = umask(027);
    path_in(p, sizeof p, "new1.rmdl");
    int st = recnn_model_save(m, p);
    umask(002);
    char q[512];
    path_in(q, sizeof q, "new2.rmdl");
    int st2 = recnn_model_save(m, q);
    umask(old);
    ck_assert_int_eq(st, RECNN_OK);
    ck_assert_int_eq(st2, RECNN_OK);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0640);
    ck_assert_int_eq(stat(q, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0664);
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* A file name of the longest length the directory allows can be saved
 * (the temporary file's name must not be longer than the target's). */
START_TEST(test_save_long_name)
{
    make_tmpdir();
    long nm = pathconf(tmpdir, _PC_NAME_MAX);
    if (nm <= 0 || nm > 255)
        nm = 255;
    char name[256];
    memset(name, 'n', (size_t)nm - 1);
    name[nm - 1] = '\0'; /* NAME_MAX - 1 bytes, e.g. 254 */
    char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    recnn_dataset *d = make_data(5, 6, 0.3, 23);
    recnn_model *m = fit_model("popularity", NULL, d);
    ck_assert_msg(recnn_model_save(m, p) == RECNN_OK, "%s", recnn_last_error());
    ck_assert_msg(recnn_model_save(m, p) == RECNN_OK, "%s", recnn_last_error());
    recnn_model *b = NULL;
    ck_assert_int_eq(recnn_model_load(&b, p), RECNN_OK);
    assert_same_model(m, b);
    recnn_model_free(b);
    ck_assert_int_eq(count_dir_entries(), 1);
    unlink(p);
    recnn_model_free(m);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* A file with valid checksums whose float tensor holds NaN or +-Inf is
 * refused naming the tensor; a model whose parameters hold one is not
 * saved (RECNN_E_NUMERIC, nothing written). */
START_TEST(test_nonfinite_tensors)
{
    make_tmpdir();
    size_t n, m;
    unsigned char *b = small_file(&n);
    tsec s[16];
    int ns = parse_sections(b, n, s, 16);
    int k = find_section(s, ns, "TNSR");
    unsigned char *tn = malloc(s[k].len);
    ck_assert_ptr_nonnull(tn);
    memcpy(tn, s[k].p, s[k].len);
    tsec save = s[k];
    s[k].p = tn;
    ck_assert_uint_eq(le64(tn + 4) & 0xffffffffu, RECNN__F32);
    uint64_t count = le64(tn + 8);
    uint32_t nl = (uint32_t)(le64(tn) & 0xffffffffu);
    ck_assert_uint_ge(count, 2);
    unsigned char *data = tn + 16 + ((nl + 7) & ~7u);
    const uint32_t bad[] = {0x7fc00000u, 0xffc00001u, 0x7f800000u, 0xff800000u};
    for (int j = 0; j < 4; j++) {
        memcpy(tn, save.p, save.len);
        st32(data + 4 * (count - 1), bad[j]);
        unsigned char *c = build_file(b, s, ns, &m);
        ck_assert_int_eq(load_mem(c, m), RECNN_E_CORRUPT);
        ck_assert_ptr_nonnull(strstr(recnn_last_error(), "non-finite"));
        ck_assert_ptr_nonnull(strstr(recnn_last_error(), "\"score\""));
        free(c);
    }
    /* the largest finite float loads */
    memcpy(tn, save.p, save.len);
    st32(data, 0x7f7fffffu);
    unsigned char *c = build_file(b, s, ns, &m);
    ck_assert_int_eq(load_mem(c, m), RECNN_OK);
    free(c);
    s[k] = save;
    free(tn);
    free(b);

    /* saving: a NaN in a parameter */
    recnn_dataset *d = make_data(5, 6, 0.3, 24);
    recnn_model *mod = fit_model("popularity", NULL, d);
    recnn__tensor t[RECNN__MAX_TENSORS];
    int nt = mod->vt->tensors(mod, t, RECNN__MAX_TENSORS);
    ck_assert_int_ge(nt, 1);
    ck_assert_int_eq(t[0].dtype, RECNN__F32);
    float *f = t[0].data;
    float keep = f[1];
    f[1] = NAN;
    char p[512];
    path_in(p, sizeof p, "nan.rmdl");
    ck_assert_int_eq(recnn_model_save(mod, p), RECNN_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(recnn_last_error(), "score"));
    ck_assert_int_eq(count_dir_entries(), 0);
    f[1] = INFINITY;
    ck_assert_int_eq(recnn_model_save(mod, p), RECNN_E_NUMERIC);
    f[1] = keep;
    ck_assert_int_eq(recnn_model_save(mod, p), RECNN_OK);
    ck_assert_int_eq(count_dir_entries(), 1);
    recnn_model_free(mod);
    recnn_dataset_free(d);
    remove_tmpdir();
}
END_TEST

int main(void)
{
    umask(022);
    Suite *s = suite_create("io");
    TCase *t = tcase_create("model files");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_roundtrip_popularity);
    tcase_add_test(t, test_roundtrip_ease);
    tcase_add_test(t, test_roundtrip_all_kinds);
    tcase_add_test(t, test_roundtrip_names);
    tcase_add_test(t, test_every_byte_flip_refused);
    tcase_add_test(t, test_byte_flips_sampled_large);
    tcase_add_test(t, test_every_truncation_refused);
    tcase_add_test(t, test_foreign_files);
    tcase_add_test(t, test_header_fields);
    tcase_add_test(t, test_checksummed_but_inconsistent);
    tcase_add_test(t, test_save_errors);
    tcase_add_test(t, test_save_failure_keeps_old_file);
    tcase_add_test(t, test_save_special_paths);
    tcase_add_test(t, test_save_permissions);
    tcase_add_test(t, test_save_long_name);
    tcase_add_test(t, test_nonfinite_tensors);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
