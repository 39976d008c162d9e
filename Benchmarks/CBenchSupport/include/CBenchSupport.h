#ifndef CBENCHSUPPORT_H
#define CBENCHSUPPORT_H
#include <stdint.h>

/* What the C benchmarks (MemoryPatterns, SipHashBench, PrefetchShapes) share. */

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* qsort comparison of two doubles, ascending. */
int bench_compare_doubles(const void *a, const void *b);

/* `text` as a positive decimal number; otherwise prints "PROGRAM: FLAG needs a positive
   number" to stderr and exits with status 2 (a usage error). `text` may be NULL (a flag given
   last, without its value). */
uint64_t bench_positive_number(const char *program, const char *text, const char *flag);

#endif
