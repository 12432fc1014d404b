/* docs/TUTORIAL.md stays correct: its ```c blocks, concatenated in order,
 * are compiled against this build's static library and run.  Needs a C
 * compiler (cc, or $CC) and pkg-config at test time, like the pkg-config
 * test; skips with a message when there is none. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Writes the ```c blocks of md to out; returns how many. */
static int extract_c(const char *md, FILE *out)
{
    int blocks = 0, in = 0, line = 0;
    const char *p = md;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (!in && len >= 4 && strncmp(p, "```c", 4) == 0 &&
            (len == 4 || p[4] == ' ' || p[4] == '\r')) {
            in = 1;
            blocks++;
            fprintf(out, "#line %d \"docs/TUTORIAL.md\"\n", line + 1);
        } else if (in && len >= 3 && strncmp(p, "```", 3) == 0) {
            in = 0;
        } else if (in) {
            fwrite(p, 1, len, out);
            fputc('\n', out);
        }
        p = eol ? eol + 1 : p + len;
    }
    return blocks;
}

/* The static library of this build: <exe dir>/../lib/librecnn.a (BUILD
 * directories) or lib/librecnn.a (the default build). */
static int find_lib(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(out, size, "%s/../lib/librecnn.a", exe);
            if (w > 0 && (size_t)w < size && access(out, R_OK) == 0)
                return 1;
        }
    }
    snprintf(out, size, "lib/librecnn.a");
    return access(out, R_OK) == 0;
}

static int sh(const char *cmd)
{
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

START_TEST(test_tutorial_compiles_and_runs)
{
    char *md = read_file("docs/TUTORIAL.md");
    ck_assert_msg(md != NULL, "docs/TUTORIAL.md not found (run from the repository root)");
    if (sh("command -v ${CC:-cc} >/dev/null 2>&1 && pkg-config --exists openblas") != 0) {
        printf("test_tutorial: no C compiler or pkg-config here, skipped\n");
        free(md);
        return;
    }
    char dir[] = "/tmp/recnn_tutorial_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* dir is short (mkdtemp template), so these never truncate */
    char src[128], bin[128], log[128], lib[PATH_MAX], cmd[2 * PATH_MAX];
    snprintf(src, sizeof src, "%s/tutorial.c", dir);
    snprintf(bin, sizeof bin, "%s/tutorial", dir);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    int blocks = extract_c(md, f);
    fclose(f);
    free(md);
    ck_assert_int_ge(blocks, 5);
    ck_assert_msg(find_lib(lib, sizeof lib), "librecnn.a not found");
    const char *san =
#if defined(__SANITIZE_ADDRESS__)
        "-fsanitize=address,undefined -fno-omit-frame-pointer";
#else
        "";
#endif
    int w = snprintf(cmd, sizeof cmd,
             "${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic -O1 %s -Iinclude "
             "$(pkg-config --cflags openblas lapacke) %s -o %s %s "
             "$(pkg-config --libs openblas lapacke) -fopenmp -lm > %s 2>&1",
             san, src, bin, lib, log);
    ck_assert(w > 0 && (size_t)w < sizeof cmd);
    int st = sh(cmd);
    if (st != 0) {
        char *l = read_file(log);
        ck_abort_msg("the tutorial does not compile (%d):\n%s", st, l ? l : "");
    }
    /* run it in the temporary directory (it writes a model file there) */
    snprintf(cmd, sizeof cmd, "cd %s && ./tutorial > out.txt 2>&1", dir);
    st = sh(cmd);
    char out_path[128];
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    char *out = read_file(out_path);
    ck_assert_msg(st == 0, "the tutorial program failed (%d):\n%s", st, out ? out : "");
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "test RMSE") != NULL, "no RMSE line:\n%s", out);
    ck_assert_msg(strstr(out, "identical") != NULL, "save/load line missing:\n%s", out);
    free(out);
    unlink(src);
    unlink(bin);
    unlink(log);
    unlink(out_path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tutorial");
    TCase *tc = tcase_create("tutorial");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_tutorial_compiles_and_runs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
