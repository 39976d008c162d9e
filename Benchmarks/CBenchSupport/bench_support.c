#include "CBenchSupport.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int bench_compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

uint64_t bench_positive_number(const char *program, const char *text, const char *flag) {
    char *end;
    const unsigned long long value = strtoull(text ? text : "", &end, 10);
    if (!text || *text == 0 || *end || value == 0) {
        fprintf(stderr, "%s: %s needs a positive number\n", program, flag);
        exit(2);
    }
    return value;
}
