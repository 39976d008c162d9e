/*
 * PrefetchShapes: what software prefetches cost the core on this machine, by how they are
 * grouped (docs/BENCHMARKS.md, "What prefetches cost the core"). Apart from any matcher code:
 * a loop of N iterations, each doing --work steps of CPU work (a chain of dependent
 * multiply-adds, about 1.25 ns a step here, that needs no memory) and reading --lines random
 * 64-byte lines of a table of --megabytes, each line prefetched well ahead of its read. What
 * changes between shapes is only how the prefetches are grouped:
 *
 *   none       the work alone, no memory (the floor)
 *   steady     each iteration prefetches the lines of iteration i + 16: one group per
 *              iteration, spread evenly over the work
 *   burst-B    every B iterations, one tight loop prefetches the lines of the B iterations
 *              B ahead (as a batch of B values is filed: the matcher's bucket prefetches are
 *              such a loop); B = 8, 16, 32, 64, 128
 *
 * Every shape reads the same lines in the same order, and every line is prefetched at least
 * 16 iterations (about 20 × work ns) before it is read, far more than the memory latency.
 * Rounds alternate the shapes; each figure is the median over rounds of ns per iteration,
 * and `extra_ns` is that minus the `none` figure: what the memory costs the core. Prints one
 * JSON object.
 *
 * usage: PrefetchShapes [--work N] [--lines N] [--iterations N] [--rounds N] [--megabytes N]
 *                       [--huge-pages]
 */
#include "CBenchSupport.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { SHAPES = 7, MAX_ROUNDS = 99, MAX_LINES = 4, AHEAD = 16 };
static const char *const names[SHAPES] = {"none", "steady", "burst-8", "burst-16", "burst-32", "burst-64", "burst-128"};
static const uint64_t bursts[SHAPES] = {0, 1, 8, 16, 32, 64, 128};

static uint8_t *table;
static uint64_t *offsets; /* line offsets: iteration i reads offsets[lines * i + j], j < lines */
static uint64_t iterations, lines, work;
static uint64_t sink;

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* The CPU work of one iteration: `work` dependent multiply-adds the optimiser cannot fold. */
static inline uint64_t spin(uint64_t acc) {
    for (uint64_t k = 0; k < work; k++) {
        acc = acc * 0x5851f42d4c957f2dULL + k;
        __asm__("" : "+r"(acc));
    }
    return acc;
}

static inline void prefetch_iteration(uint64_t i) {
    if (i >= iterations) return;
    for (uint64_t j = 0; j < lines; j++) __builtin_prefetch(table + offsets[lines * i + j], 0, 3);
}

static inline uint64_t read_iteration(uint64_t i) {
    uint64_t sum = 0;
    for (uint64_t j = 0; j < lines; j++) sum += table[offsets[lines * i + j]];
    return sum;
}

/* One pass in `shape`; returns ns per iteration. */
static double run(int shape) {
    const uint64_t burst = bursts[shape];
    uint64_t acc = 1, sum = 0;
    const double start = bench_now();
    if (burst == 0) {
        for (uint64_t i = 0; i < iterations; i++) acc = spin(acc);
    } else if (burst == 1) {
        for (uint64_t i = 0; i < AHEAD; i++) prefetch_iteration(i);
        for (uint64_t i = 0; i < iterations; i++) {
            prefetch_iteration(i + AHEAD);
            acc = spin(acc);
            sum += read_iteration(i);
        }
    } else {
        /* The lines of iterations [i + ahead, i + ahead + burst) at each multiple i of burst,
           ahead = the first multiple of burst that is at least AHEAD. */
        const uint64_t ahead = (AHEAD + burst - 1) / burst * burst;
        for (uint64_t i = 0; i < ahead; i++) prefetch_iteration(i);
        for (uint64_t i = 0; i < iterations; i++) {
            if (i % burst == 0)
                for (uint64_t b = 0; b < burst; b++) prefetch_iteration(i + ahead + b);
            acc = spin(acc);
            sum += read_iteration(i);
        }
    }
    const double elapsed = bench_now() - start;
    sink += acc + sum;
    return elapsed / (double)iterations * 1e9;
}

int main(int argc, char **argv) {
    uint64_t rounds = 7, megabytes = 400;
    int huge = 0;
    iterations = 2000000;
    lines = 1;
    work = 20;
    for (int i = 1; i < argc; i++) {
#define NUMBER(flag) bench_positive_number("PrefetchShapes", ++i < argc ? argv[i] : NULL, (flag))
        if (!strcmp(argv[i], "--work")) work = NUMBER("--work");
        else if (!strcmp(argv[i], "--lines")) lines = NUMBER("--lines");
        else if (!strcmp(argv[i], "--iterations")) iterations = NUMBER("--iterations");
        else if (!strcmp(argv[i], "--rounds")) rounds = NUMBER("--rounds");
        else if (!strcmp(argv[i], "--megabytes")) megabytes = NUMBER("--megabytes");
        else if (!strcmp(argv[i], "--huge-pages")) huge = 1;
        else {
            fprintf(stderr, "PrefetchShapes: unknown option %s\nusage: PrefetchShapes [--work N] [--lines N] "
                            "[--iterations N] [--rounds N] [--megabytes N] [--huge-pages]\n", argv[i]);
            return 2;
        }
#undef NUMBER
    }
    if (lines > MAX_LINES || rounds > MAX_ROUNDS) {
        fprintf(stderr, "PrefetchShapes: --lines is at most %d, --rounds at most %d\n", MAX_LINES, MAX_ROUNDS);
        return 2;
    }
    const uint64_t bytes = megabytes << 20, table_lines = bytes / 64;
    table = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    offsets = malloc(iterations * lines * sizeof *offsets);
    if (table == MAP_FAILED || offsets == NULL) {
        fprintf(stderr, "PrefetchShapes: out of memory (%llu MB table)\n", (unsigned long long)megabytes);
        return 1;
    }
    if (huge) madvise(table, bytes, MADV_HUGEPAGE);
    memset(table, 1, bytes);
    for (uint64_t i = 0; i < iterations * lines; i++) offsets[i] = mix(i + 1) % table_lines * 64;

    double times[SHAPES][MAX_ROUNDS];
    for (int shape = 0; shape < SHAPES; shape++) run(shape); /* warm-up */
    for (uint64_t r = 0; r < rounds; r++)
        for (int shape = 0; shape < SHAPES; shape++) times[shape][r] = run(shape);
    double median[SHAPES];
    for (int shape = 0; shape < SHAPES; shape++) {
        qsort(times[shape], rounds, sizeof(double), bench_compare_doubles);
        median[shape] = times[shape][rounds / 2];
    }
    printf("{\"name\":\"prefetch_shapes\",\"work\":%llu,\"lines\":%llu,\"iterations\":%llu,\"rounds\":%llu,"
           "\"table_bytes\":%llu,\"huge_pages\":%s",
           (unsigned long long)work, (unsigned long long)lines, (unsigned long long)iterations,
           (unsigned long long)rounds, (unsigned long long)bytes, huge ? "true" : "false");
    for (int shape = 0; shape < SHAPES; shape++)
        printf(",\"%s\":{\"ns\":%.1f,\"extra_ns\":%.1f}", names[shape], median[shape], median[shape] - median[0]);
    printf(",\"checksum\":%llu}\n", (unsigned long long)(sink & 0xFFFF));
    return 0;
}
