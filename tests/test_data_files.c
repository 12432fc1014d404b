/* Rating and metadata loaders against what is at the path: FIFOs and pipes
 * (refused at once, no blocking), over-long lines, a split whose test file
 * has another format than its train file, NUL bytes and repeated items in
 * metadata files, and the text writer's handling of the target path. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recnn.h"
#include "common/fixtures.h"

static char tmpdir[256];

static void setup_dir(void) { test_tmpdir(tmpdir, sizeof tmpdir, "test_dfiles"); }

static void teardown_dir(void) { test_rmtree(tmpdir); }

/* tmpdir/name (static rotating buffers). */
static const char *path_of(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* Writes n bytes (n < 0: strlen) to tmpdir/name; returns the path. */
static const char *fixture_n(const char *name, const char *text, long n)
{
    return test_file(tmpdir, name, text, n);
}

static const char *fixture(const char *name, const char *text)
{
    return fixture_n(name, text, -1);
}

static void expect_error(int st, int status, const char *what)
{
    ck_assert_msg(st == status, "status %d (%s), want %d", st, recnn_last_error(), status);
    ck_assert_msg(strstr(recnn_last_error(), what) != NULL, "error \"%s\" lacks \"%s\"",
                  recnn_last_error(), what);
}

static const char u_data[] = "1\t1\t5\t100\n1\t2\t3\t101\n2\t1\t4\t102\n";

/* ---- non-regular files ------------------------------------------------------ */

/* A FIFO (nobody writing) as ratings or metadata: RECNN_E_IO at once
 * (before the fix the loader blocked in open/read forever; the case
 * timeout turns that into a failure). */
START_TEST(fifo_refused)
{
    const char *fifo = path_of("ratings.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    recnn_dataset *d = (recnn_dataset *)0x1;
    const int formats[] = {RECNN_FORMAT_AUTO, RECNN_FORMAT_ML100K};
    for (int k = 0; k < 2; k++) {
        expect_error(recnn_dataset_load(&d, fifo, formats[k], NULL), RECNN_E_IO,
                     "not a regular file");
        ck_assert_ptr_null(d);
        ck_assert_ptr_nonnull(strstr(recnn_last_error(), "ratings.fifo"));
    }
    recnn_dataset *a = NULL, *b = NULL;
    const char *ok = fixture("u1.base", u_data);
    expect_error(recnn_dataset_load_split(&a, &b, ok, fifo, RECNN_FORMAT_ML100K, NULL),
                 RECNN_E_IO, "not a regular file");
    ck_assert(a == NULL && b == NULL);
    /* item metadata */
    d = NULL;
    ck_assert_int_eq(recnn_dataset_load(&d, ok, RECNN_FORMAT_ML100K, NULL), RECNN_OK);
    recnn_dataset *m = (recnn_dataset *)0x1;
    for (int f = RECNN_META_AUTO; f <= RECNN_META_CSV; f++) {
        expect_error(recnn_dataset_attach_items(&m, d, fifo, f), RECNN_E_IO,
                     "not a regular file");
        ck_assert_ptr_null(m);
    }
    /* a directory keeps its message */
    expect_error(recnn_dataset_attach_items(&m, d, tmpdir, RECNN_META_CSV), RECNN_E_IO,
                 "is a directory");
    recnn_dataset_free(d);
}
END_TEST

/* A pipe holding a valid u.data, opened by name (as /dev/stdin would be):
 * refused as not a regular file, not "no ratings" after the line count
 * consumed it. */
START_TEST(pipe_refused)
{
    struct stat sb;
    if (stat("/proc/self/fd", &sb) != 0) {
        printf("pipe_refused: no /proc/self/fd, skipped\n");
        return;
    }
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], u_data, sizeof u_data - 1), (ssize_t)(sizeof u_data - 1));
    close(fds[1]);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fds[0]);
    recnn_dataset *d = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_load(&d, p, RECNN_FORMAT_ML100K, NULL), RECNN_E_IO,
                 "not a regular file");
    ck_assert_ptr_null(d);
    close(fds[0]);
}
END_TEST

/* A regular file whose first line is longer than 64 MiB (a sparse file of
 * zero bytes, like /dev/zero): a clear error naming the line, no endless
 * buffer growth. */
START_TEST(line_too_long)
{
    const char *p = path_of("huge.data");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, ((off_t)64 << 20) + 100), 0);
    close(fd);
    recnn_dataset *d = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_load(&d, p, RECNN_FORMAT_ML100K, NULL), RECNN_E_FORMAT,
                 "huge.data:1: line longer than 64 MiB");
    ck_assert_ptr_null(d);
    expect_error(recnn_dataset_load(&d, p, RECNN_FORMAT_AUTO, NULL), RECNN_E_FORMAT,
                 "huge.data:1: line longer than 64 MiB");
    /* the third line of a file, and metadata */
    const char *ok = fixture("u.data", u_data);
    ck_assert_int_eq(recnn_dataset_load(&d, ok, RECNN_FORMAT_ML100K, NULL), RECNN_OK);
    const char *q = path_of("huge.csv");
    fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    static const char head[] = "movieId,title,genres\n1,A,Drama\n";
    ck_assert_int_eq(write(fd, head, sizeof head - 1), (ssize_t)(sizeof head - 1));
    ck_assert_int_eq(ftruncate(fd, ((off_t)64 << 20) + 200), 0);
    close(fd);
    recnn_dataset *m = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_attach_items(&m, d, q, RECNN_META_CSV), RECNN_E_FORMAT,
                 "huge.csv:3: line longer than 64 MiB");
    ck_assert_ptr_null(m);
    recnn_dataset_free(d);
    unlink(p);
    unlink(q);
}
END_TEST

/* ---- predefined splits ------------------------------------------------------- */

START_TEST(split_formats_differ)
{
    const char *train = fixture("ok.dat", "1::2::3::100\n");
    const char *test = fixture("x.data", "1\t2\t3\t100\n");
    recnn_dataset *a = (recnn_dataset *)0x1, *b = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_load_split(&a, &b, train, test, RECNN_FORMAT_AUTO, NULL),
                 RECNN_E_FORMAT, "have different formats");
    ck_assert(a == NULL && b == NULL);
    /* the test file's own format is detected: both ML-1M style loads */
    const char *test2 = fixture("t.dat", "1::3::4::101\n2::2::5::102\n");
    ck_assert_int_eq(recnn_dataset_load_split(&a, &b, train, test2, RECNN_FORMAT_AUTO,
                                              NULL),
                     RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(a), 1);
    ck_assert_int_eq(recnn_dataset_n_ratings(b), 2);
    recnn_dataset_free(a);
    recnn_dataset_free(b);
    /* and the other way round: a u.data train with a "::" test file */
    expect_error(recnn_dataset_load_split(&a, &b, test, train, RECNN_FORMAT_AUTO, NULL),
                 RECNN_E_FORMAT, "have different formats");
}
END_TEST

/* ---- metadata ------------------------------------------------------------------ */

static recnn_dataset *numeric_ratings(void)
{
    recnn_dataset *d = NULL;
    const char *p = fixture("r.data", "1\t1\t5\t100\n1\t2\t3\t101\n2\t1\t4\t102\n");
    ck_assert_int_eq(recnn_dataset_load(&d, p, RECNN_FORMAT_ML100K, NULL), RECNN_OK);
    return d;
}

static const char item_tail[] = "|01-Jan-1995||http://x|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n";

/* A field quoted in an error keeps what follows a NUL or another control
 * byte, written as \xNN (the message stopped at the NUL: `"2"`). */
START_TEST(error_field_escaped)
{
    static const char nul_id[] = "1\t1\t5\t100\n2\0x\t1\t4\t102\n";
    recnn_dataset *d = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_load(&d, fixture_n("u.data", nul_id, sizeof nul_id - 1),
                                    RECNN_FORMAT_ML100K, NULL),
                 RECNN_E_FORMAT, "u.data:2: user id \"2\\x00x\"");
    ck_assert_ptr_null(d);
    /* long fields are cut at 40 bytes with "..." */
    char line[200];
    snprintf(line, sizeof line, "1\t%s\t5\t100\n",
             "123456789012345678901234567890123456789012345");
    expect_error(recnn_dataset_load(&d, fixture("u.data", line), RECNN_FORMAT_ML100K, NULL),
                 RECNN_E_FORMAT, "\"1234567890123456789012345678901234567890...\"");
}
END_TEST

START_TEST(meta_nul_bytes)
{
    recnn_dataset *d = numeric_ratings(), *m = (recnn_dataset *)0x1;
    /* an id "1\0junk": not item 1 */
    static const char id_nul[] = "movieId,title,genres\n2,B,Drama\n1\0junk,A,Comedy\n";
    expect_error(recnn_dataset_attach_items(
                     &m, d, fixture_n("movies.csv", id_nul, sizeof id_nul - 1),
                     RECNN_META_CSV),
                 RECNN_E_FORMAT, "movies.csv:3: NUL byte");
    ck_assert_ptr_null(m);
    /* a title cut short at its NUL */
    static const char title_nul[] = "1,T\0oy,Comedy\n";
    expect_error(recnn_dataset_attach_items(
                     &m, d, fixture_n("movies.csv", title_nul, sizeof title_nul - 1),
                     RECNN_META_AUTO),
                 RECNN_E_FORMAT, "movies.csv:1: NUL byte");
    ck_assert_ptr_null(m);
    /* u.item (ML-100K) */
    char line[256];
    int n = snprintf(line, sizeof line, "1|Toy%s", item_tail);
    line[2 + 1] = '\0'; /* "1|T\0y|..." */
    expect_error(recnn_dataset_attach_items(&m, d, fixture_n("u.item", line, n),
                                            RECNN_META_ML100K),
                 RECNN_E_FORMAT, "u.item:1: NUL byte");
    ck_assert_ptr_null(m);
    /* without the NUL the same lines load */
    ck_assert_int_eq(recnn_dataset_attach_items(&m, d, fixture("movies.csv", "1,Toy,Comedy\n"),
                                                RECNN_META_CSV),
                     RECNN_OK);
    const char *t = NULL;
    ck_assert_int_eq(recnn_dataset_item_title(m, 1, &t), RECNN_OK);
    ck_assert_str_eq(t, "Toy");
    recnn_dataset_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* An item described twice is refused whether or not the ratings contain
 * it (numeric ids, "+7" being 7, and string ids). */
START_TEST(meta_duplicates_absent_items)
{
    recnn_dataset *d = numeric_ratings(), *m = (recnn_dataset *)0x1;
    expect_error(recnn_dataset_attach_items(
                     &m, d, fixture("movies.csv", "1,A,Drama\n7,B,Drama\n7,C,Comedy\n"),
                     RECNN_META_CSV),
                 RECNN_E_FORMAT, "movies.csv:3: item described twice");
    ck_assert_ptr_null(m);
    expect_error(recnn_dataset_attach_items(
                     &m, d, fixture("movies.csv", "7,B,Drama\n2,A,Drama\n+7,C,Comedy\n"),
                     RECNN_META_CSV),
                 RECNN_E_FORMAT, "movies.csv:3: item described twice");
    char text[512];
    int n = snprintf(text, sizeof text, "9|X%s2|Y%s9|Z%s", item_tail, item_tail, item_tail);
    ck_assert_int_lt(n, (int)sizeof text);
    expect_error(recnn_dataset_attach_items(&m, d, fixture("u.item", text),
                                            RECNN_META_ML100K),
                 RECNN_E_FORMAT, "u.item:3: item described twice");
    /* distinct absent items are fine */
    ck_assert_int_eq(recnn_dataset_attach_items(
                         &m, d, fixture("movies.csv", "1,A,Drama\n7,B,Drama\n8,C,Comedy\n"),
                         RECNN_META_CSV),
                     RECNN_OK);
    recnn_dataset_free(m);
    recnn_dataset_free(d);

    /* string ids (the first line of a movies.csv starting with a letter is
     * its header) */
    recnn_load_options o;
    recnn_load_options_init(&o);
    o.string_ids = 1;
    o.time_col = -1;
    o.scale_min = 1;
    o.scale_max = 5;
    const char *p = fixture("s.csv", "ann,dune,4\nbob,alien,5\n");
    ck_assert_int_eq(recnn_dataset_load(&d, p, RECNN_FORMAT_GENERIC, &o), RECNN_OK);
    expect_error(recnn_dataset_attach_items(
                     &m, d,
                     fixture("movies.csv", "id,title,genres\nheat,A,Drama\ndune,B,Drama\n"
                                           "heat,C,Drama\n"),
                     RECNN_META_CSV),
                 RECNN_E_FORMAT, "movies.csv:4: item described twice");
    ck_assert_int_eq(recnn_dataset_attach_items(
                         &m, d,
                         fixture("movies.csv", "id,title,genres\nheat,A,Drama\ndune,B,Drama\n"
                                               "Heat,C,Drama\n"),
                         RECNN_META_CSV),
                     RECNN_OK);
    recnn_dataset_free(m);
    recnn_dataset_free(d);
}
END_TEST

/* ---- the text writer's target path ------------------------------------------- */

static int entries_in_tmpdir(void) { return test_dir_entries(tmpdir); }

/* As model files: a FIFO, a link to a directory and a dangling link are
 * refused (RECNN_E_IO, nothing created or replaced); a link is followed;
 * a replaced file keeps its mode; a new file gets 0666 minus the umask
 * (it was always 0600); a name of NAME_MAX - 1 bytes works. */
START_TEST(save_text_paths)
{
    recnn_dataset *d = NULL;
    ck_assert_int_eq(recnn_dataset_load(&d, fixture("u.data", u_data), RECNN_FORMAT_ML100K,
                                        NULL),
                     RECNN_OK);
    unlink(path_of("u.data"));
    const char *fifo = path_of("out.fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    expect_error(recnn_dataset_save_text(d, fifo, RECNN_FORMAT_CSV), RECNN_E_IO,
                 "not a regular file");
    struct stat sb;
    ck_assert_int_eq(lstat(fifo, &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    const char *dangling = path_of("dangling");
    ck_assert_int_eq(symlink(path_of("nowhere.csv"), dangling), 0);
    expect_error(recnn_dataset_save_text(d, dangling, RECNN_FORMAT_CSV), RECNN_E_IO,
                 "not a regular file");
    ck_assert_int_ne(lstat(path_of("nowhere.csv"), &sb), 0);
    const char *todir = path_of("todir");
    ck_assert_int_eq(symlink(tmpdir, todir), 0);
    expect_error(recnn_dataset_save_text(d, todir, RECNN_FORMAT_CSV), RECNN_E_IO,
                 "not a regular file");
    ck_assert_int_eq(entries_in_tmpdir(), 3);
    unlink(fifo);
    unlink(dangling);
    unlink(todir);

    /* a link to a 0600 file: the file is replaced and stays 0600 */
    const char *real = fixture("real.csv", "old\n");
    ck_assert_int_eq(chmod(real, 0600), 0);
    const char *link = path_of("link.csv");
    ck_assert_int_eq(symlink("real.csv", link), 0);
    ck_assert_int_eq(recnn_dataset_save_text(d, link, RECNN_FORMAT_CSV), RECNN_OK);
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_eq(stat(real, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0600);
    recnn_dataset *e = NULL;
    ck_assert_int_eq(recnn_dataset_load(&e, real, RECNN_FORMAT_AUTO, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(e), recnn_dataset_n_ratings(d));
    recnn_dataset_free(e);
    ck_assert_int_eq(entries_in_tmpdir(), 2);
    unlink(link);
    unlink(real);

    /* a new file: the umask applies */
    mode_t old = umask(022);
    const char *fresh = path_of("new.dat");
    int st = recnn_dataset_save_text(d, fresh, RECNN_FORMAT_ML_DAT);
    umask(old);
    ck_assert_int_eq(st, RECNN_OK);
    ck_assert_int_eq(stat(fresh, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 07777, 0644);
    unlink(fresh);

    /* the longest name but one */
    long nm = pathconf(tmpdir, _PC_NAME_MAX);
    if (nm <= 0 || nm > 255)
        nm = 255;
    char name[256];
    memset(name, 'x', (size_t)nm - 1);
    name[nm - 1] = '\0';
    const char *lp = path_of(name);
    ck_assert_msg(recnn_dataset_save_text(d, lp, RECNN_FORMAT_ML100K) == RECNN_OK, "%s",
                  recnn_last_error());
    ck_assert_int_eq(recnn_dataset_load(&e, lp, RECNN_FORMAT_ML100K, NULL), RECNN_OK);
    ck_assert_int_eq(recnn_dataset_n_ratings(e), recnn_dataset_n_ratings(d));
    recnn_dataset_free(e);
    ck_assert_int_eq(entries_in_tmpdir(), 1);
    recnn_dataset_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data_files");
    TCase *t = tcase_create("loaders");
    tcase_add_checked_fixture(t, setup_dir, teardown_dir);
    tcase_set_timeout(t, 30);
    tcase_add_test(t, fifo_refused);
    tcase_add_test(t, pipe_refused);
    tcase_add_test(t, line_too_long);
    tcase_add_test(t, split_formats_differ);
    tcase_add_test(t, meta_nul_bytes);
    tcase_add_test(t, meta_duplicates_absent_items);
    tcase_add_test(t, save_text_paths);
    tcase_add_test(t, error_field_escaped);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
