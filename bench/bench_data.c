/* Dataset benchmark: prints one JSON object per line (docs/PERFORMANCE.md
 * section 5; model "dataset", the data set as "data", the operation as
 * "variant"; a checksum of every loaded data set's triplets so that the
 * harness can check that loading is deterministic).
 *
 *   bench_data            ML-100K load time (when ../shared/datasets has it),
 *                         single-core parse throughput, and a 10M-rating
 *                         Netflix-format file (generated) with its memory
 *   bench_data N          the Netflix-format run with N ratings
 *   bench_data scale      the full Netflix size: 480,189 x 17,770, 100M
 *                         (also what RECNN_BENCH_SCALE=1, make bench-scale, runs)
 *
 * Environment: RECNN_DATA_DIR (default ../shared/datasets), RECNN_THREADS,
 * RECNN_BENCH_SCALE, TMPDIR (where the generated files go; ~2.3 GB at full
 * scale, removed afterwards). */
#include <recnn.h>

#include "core/core.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): robust when the
 * machine is shared, unlike wall time. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* VmRSS / VmHWM of this process in bytes. */
static long long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = atoll(line + kl + 1);
            break;
        }
    fclose(f);
    return v < 0 ? -1 : v * 1024;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_data: %s: %s\n", what, recnn_last_error());
    exit(1);
}

/* CRC-32C of the triplets (users, items, values in (user, item) order). */
static void checksum(const char *data, const recnn_dataset *d)
{
    const int32_t *u, *i;
    const float *v;
    const int64_t *t;
    if (recnn_dataset_triplets(d, &u, &i, &v, &t))
        return;
    size_t n = (size_t)recnn_dataset_n_ratings(d);
    uint32_t crc = recnn__crc32c(0, u, n * sizeof *u);
    crc = recnn__crc32c(crc, i, n * sizeof *i);
    crc = recnn__crc32c(crc, v, n * sizeof *v);
    printf("{\"bench\":\"bench_data\",\"model\":\"dataset\",\"data\":\"%s\","
           "\"variant\":\"load\",\"checksum\":\"%08x\"}\n",
           data, (unsigned)crc);
}

static void bench_ml100k(void)
{
    const char *dir = getenv("RECNN_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dir && *dir ? dir : "../shared/datasets");
    if (file_size(path) < 0) {
        printf("{\"bench\":\"bench_data\",\"skip\":\"ml-100k: %s not found\"}\n", path);
        return;
    }
    double best = 1e30, bestc = 1e30;
    int64_t n = 0;
    for (int r = 0; r < 5; r++) {
        recnn_dataset *d;
        double t0 = now(), c0 = cpu();
        if (recnn_dataset_load(&d, path, RECNN_FORMAT_AUTO, NULL))
            die("ml100k");
        double t = now() - t0, c = cpu() - c0;
        best = t < best ? t : best;
        bestc = c < bestc ? c : bestc;
        n = recnn_dataset_n_ratings(d);
        if (r == 0)
            checksum("ml-100k", d);
        recnn_dataset_free(d);
    }
    printf("{\"bench\":\"bench_data\",\"model\":\"dataset\",\"data\":\"ml-100k\","
           "\"variant\":\"load\",\"ratings\":%lld,\"load_seconds\":%.4f,"
           "\"cpu_seconds\":%.4f,\"target_seconds\":0.1,\"threads\":%d,"
           "\"note\":\"best of 5 loads of u.data\"}\n",
           (long long)n, best, bestc, recnn_get_num_threads());
}

static void bench_parse(const char *tmp)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = 50000;
    o.n_items = 5000;
    o.n_ratings = 3000000;
    o.n_genres = 0;
    recnn_dataset *d;
    if (recnn_dataset_synthetic(&d, &o))
        die("synthetic");
    const int formats[3] = {RECNN_FORMAT_ML100K, RECNN_FORMAT_CSV, RECNN_FORMAT_NETFLIX};
    const char *names[3] = {"ml100k", "csv", "netflix"};
    int old = recnn_get_num_threads();
    recnn_set_num_threads(1);
    for (int f = 0; f < 3; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/recnn_bench_parse_%d.txt", tmp, f);
        if (recnn_dataset_save_text(d, path, formats[f]))
            die("save_text");
        long long bytes = file_size(path);
        double best = 1e30, bestc = 1e30;
        for (int r = 0; r < 3; r++) {
            recnn_dataset *e;
            double t0 = now(), c0 = cpu();
            if (recnn_dataset_load(&e, path, formats[f], NULL))
                die("load");
            double t = now() - t0, c = cpu() - c0;
            best = t < best ? t : best;
            bestc = c < bestc ? c : bestc;
            recnn_dataset_free(e);
        }
        printf("{\"bench\":\"bench_data\",\"model\":\"dataset\",\"data\":\"synthetic-3m\","
               "\"variant\":\"parse-%s-1-core\",\"threads\":1,\"ratings\":%lld,"
               "\"bytes\":%lld,\"load_seconds\":%.3f,\"mb_per_s\":%.1f,\"cpu_seconds\":%.3f,"
               "\"mb_per_cpu_s\":%.1f,\"target_mb_per_s\":50,"
               "\"note\":\"whole load: line count + parse + id maps + CSR/CSC\"}\n",
               names[f], (long long)o.n_ratings, bytes, best, (double)bytes / 1e6 / best,
               bestc, (double)bytes / 1e6 / bestc);
        unlink(path);
    }
    recnn_set_num_threads(old);
    recnn_dataset_free(d);
}

/* The data set's name in the figures: the full size is the convention's
 * "synthetic-netflix"; smaller runs say their size. */
static const char *data_name(int64_t n)
{
    static char name[64];
    if (n >= 100000000)
        return "synthetic-netflix";
    if (n >= 1000000)
        snprintf(name, sizeof name, "netflix-format-%lldm", (long long)(n / 1000000));
    else
        snprintf(name, sizeof name, "netflix-format-%lldk", (long long)(n / 1000));
    return name;
}

/* The child of bench_netflix: generates the synthetic data and writes it
 * in Netflix format. */
static int generate(int64_t n, int64_t nu, int64_t ni, const char *path)
{
    recnn_synthetic_options o;
    recnn_synthetic_options_init(&o);
    o.n_users = nu;
    o.n_items = ni;
    o.n_ratings = n;
    o.n_genres = 0;
    recnn_dataset *d;
    double t0 = now();
    if (recnn_dataset_synthetic(&d, &o))
        die("synthetic");
    double t1 = now();
    long long peak = status_kb("VmHWM");
    if (recnn_dataset_save_text(d, path, RECNN_FORMAT_NETFLIX))
        die("save_text");
    double t2 = now();
    printf("{\"bench\":\"bench_data\",\"model\":\"dataset\",\"data\":\"%s\","
           "\"variant\":\"generate\",\"users\":%lld,\"items\":%lld,"
           "\"ratings\":%lld,\"generate_seconds\":%.2f,\"peak_bytes_per_rating\":%.1f,"
           "\"threads\":%d}\n{\"bench\":\"bench_data\",\"model\":\"dataset\","
           "\"data\":\"%s\",\"variant\":\"save-netflix-text\",\"save_seconds\":%.2f,"
           "\"threads\":%d}\n",
           data_name(n), (long long)nu, (long long)ni, (long long)n, t1 - t0,
           (double)peak / (double)n, recnn_get_num_threads(), data_name(n), t2 - t1,
           recnn_get_num_threads());
    recnn_dataset_free(d);
    return 0;
}

static void bench_netflix(const char *tmp, int64_t n)
{
    double frac = (double)n / 100480507.0;
    int64_t nu = (int64_t)(480189 * frac), ni = 17770;
    if (nu < 1000)
        nu = 1000;
    if (n >= 100000000)
        nu = 480189;
    char path[1024];
    snprintf(path, sizeof path, "%s/recnn_bench_netflix_%d.txt", tmp, (int)getpid());
    /* generate in a fresh process (exec: OpenMP is not fork-safe), so that
     * this process's peak below is the load's alone */
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        char a1[32], a2[32], a3[32];
        snprintf(a1, sizeof a1, "%lld", (long long)n);
        snprintf(a2, sizeof a2, "%lld", (long long)nu);
        snprintf(a3, sizeof a3, "%lld", (long long)ni);
        execl("/proc/self/exe", "bench_data", "--generate", a1, a2, a3, path, (char *)NULL);
        perror("exec");
        _exit(1);
    }
    int ws;
    waitpid(pid, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "bench_data: generator failed\n");
        exit(1);
    }
    long long bytes = file_size(path);
    long long rss0 = status_kb("VmRSS");
    recnn_dataset *d;
    double t0 = now(), c0 = cpu();
    if (recnn_dataset_load(&d, path, RECNN_FORMAT_NETFLIX, NULL))
        die("netflix load");
    double t = now() - t0, c = cpu() - c0;
    long long rss1 = status_kb("VmRSS"), hwm = status_kb("VmHWM");
    int64_t got = recnn_dataset_n_ratings(d);
    printf("{\"bench\":\"bench_data\",\"model\":\"dataset\",\"data\":\"%s\","
           "\"variant\":\"load\",\"users\":%lld,\"items\":%lld,\"ratings\":%lld,"
           "\"file_bytes\":%lld,\"load_seconds\":%.2f,\"cpu_seconds\":%.2f,\"mb_per_s\":%.1f,"
           "\"resident_bytes_per_rating\":%.1f,\"peak_bytes_per_rating\":%.1f,"
           "\"peak_rss_mib\":%.0f,\"target_bytes_per_rating\":40,\"threads\":%d,"
           "\"note\":\"recnn_dataset_load of a generated Netflix-format text file; "
           "peak_rss_mib = the process's peak (the load's alone: generation ran in a "
           "child)\"}\n",
           data_name(n), (long long)recnn_dataset_n_users(d),
           (long long)recnn_dataset_n_items(d), (long long)got, bytes, t, c,
           (double)bytes / 1e6 / t, (double)(rss1 - rss0) / (double)got,
           (double)(hwm - rss0) / (double)got, (double)hwm / 1048576.0,
           recnn_get_num_threads());
    checksum(data_name(n), d);
    recnn_dataset_free(d);
    unlink(path);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int64_t n = 10000000;
    bool full = true;
    const char *env = getenv("RECNN_THREADS");
    if (env && atoi(env) > 0)
        recnn_set_num_threads(atoi(env));
    env = getenv("RECNN_BENCH_SCALE");
    bool scale = env && *env && strcmp(env, "0") != 0;
    if (scale && !(argc > 1 && strcmp(argv[1], "--generate") == 0)) {
        full = false;
        n = 100000000; /* the "100M ratings", 480,189 x 17,770 */
    } else if (argc > 1 && strcmp(argv[1], "--generate") != 0) {
        full = false;
        n = strcmp(argv[1], "scale") == 0 ? 100000000 : atoll(argv[1]);
        if (n < 1000) {
            fprintf(stderr, "usage: bench_data [scale | N ratings]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && strcmp(argv[1], "--generate") == 0)
        return generate(atoll(argv[2]), atoll(argv[3]), atoll(argv[4]), argv[5]);
    if (full) {
        bench_ml100k();
        bench_parse(tmp);
    }
    bench_netflix(tmp, n);
    return 0;
}
