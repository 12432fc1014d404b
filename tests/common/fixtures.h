/* Helpers shared by the Check suites (compiled into every test program). */
#ifndef RECNN_TESTS_FIXTURES_H
#define RECNN_TESTS_FIXTURES_H

#include <stdint.h>

#include "recnn.h"

typedef struct Suite Suite;

/* Runs every case of s with Check's defaults; the exit status for main. */
int test_run_suite(Suite *s);

/* True when RECNN_TEST_QUICK is set (valgrind runs): shrink sizes. */
int test_quick(void);

/* A fresh directory /tmp/recnn_<tag>_XXXXXX into buf (n bytes: at least
 * 32 + strlen(tag)); the test fails if it cannot be made. */
void test_tmpdir(char *buf, size_t n, const char *tag);
/* Removes dir and everything in it (best effort). */
void test_rmtree(const char *dir);
/* Writes n bytes of text (n < 0: strlen) to dir/name; returns the path
 * (one of 8 rotating static buffers). */
const char *test_file(const char *dir, const char *name, const char *text, long n);
/* Entries of dir, "." and ".." aside. */
int test_dir_entries(const char *dir);

/* Planted rank-`rank` ratings on a 1..5 scale: a fraction `density` of the
 * nu x ni cells, value clamp(3 + 1.5 u.v/sqrt(rank) + N(0, noise)); external
 * ids are 1-based. */
recnn_dataset *test_planted(int nu, int ni, int rank, double density, double noise,
                            uint64_t seed);

/* Random split sharing d's index space: about 10 % of the ratings (a
 * seeded coin per rating) to *test, the rest to *train. */
void test_split(const recnn_dataset *d, uint64_t seed, recnn_dataset **train,
                recnn_dataset **test);

#endif
