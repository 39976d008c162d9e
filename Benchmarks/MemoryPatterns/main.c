/*
 * MemoryPatterns: what a lookup's memory layout costs on this machine, apart from any matcher
 * code (docs/BENCHMARKS.md, "What a lookup's memory layout costs"). Every pattern hashes each lookup's 20-byte key
 * with libsodium's SipHash-2-4-128 (the CPU work between memory accesses, as in the matcher's
 * reference loop) and reads the lines a lookup of that layout reads, from a table of the byte
 * size of a snapshot of N entries; batches of B lookups are pipelined three deep as the matcher
 * pipelines them (prefetch home lines; read them and prefetch a hit's second line; read that).
 * The reference is the matcher benchmark's reference loop: one random line per lookup,
 * prefetched a batch at a time and read at once.
 *
 * Patterns (a fraction --hit-rate of the lookups are hits):
 *   reference      one random 64-byte line of the whole table
 *   two-region     format 3: a bucket line in the first 39 % of the table; a hit also reads a
 *                  24-byte record in the other 61 % (one record in four spans two lines)
 *   two-aligned    as two-region, the record never spanning two lines
 *   page-local     the layout tried as format 4: 4 KiB pages of 20 bucket lines, then the
 *                  buckets' records in the same page (buckets spread over the whole table)
 *   adjacent       a hit's record in the line right after its bucket line (a bound: what a hit
 *                  would cost if its data sat next to its fingerprint)
 *   block          256-byte blocks of 8 entries, 0.81 full: a line of 8 fingerprints, then their
 *                  24-byte records; 17 % of lookups also read the next block's fingerprint line
 *                  (ordered placement spills there; it is prefetched with the home line), a hit
 *                  reads its record in its own block
 *   two-choice     128-byte pairs of 4 whole entries (16-byte digests in the first line, their
 *                  16-byte metadata in the second), 0.8 full, each entry in its home pair or,
 *                  when that is full, in a second pair named by its digest; a filter in the home
 *                  pair says whether to look there. 17.5 % of hits and 1 % of misses read the
 *                  second pair, after reading the home line (the address depends on it); a hit
 *                  reads the metadata line of the pair that holds it
 *   parallel       every lookup reads two random lines, both prefetched at once: a record placed
 *                  by a hash of its own (e.g. of `hi`), so its address needs no bucket line, at
 *                  the price of reading it for misses too
 *
 * Rounds alternate the patterns (reference first in each round); each pattern's figure is the
 * median over rounds of reference time / pattern time. Prints one JSON object.
 *
 * usage: MemoryPatterns [--entries N] [--lookups N] [--rounds N] [--batch N] [--hit-rate F] [--huge-pages]
 */
#include "CBenchSupport.h"
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { LINE = 64, PAGE = 4096, MAX_BATCH = 256, MAX_ROUNDS = 99, PATTERNS = 8, BLOCK = 256, PAIR = 128 };
static const char *const names[PATTERNS] = {"reference", "two-region", "two-aligned", "page-local", "adjacent", "block", "two-choice", "parallel"};

static uint8_t key[crypto_shorthash_siphashx24_KEYBYTES];
static uint8_t *table;
static uint64_t entries, table_bytes, hot_lines, cold_bytes, lookups, batch;
static double hit_rate;
static uint64_t sink;

static inline uint64_t scale(uint64_t x, uint64_t n) { return (uint64_t)(((unsigned __int128)x * n) >> 64); }

static inline void digest(uint64_t i, uint64_t out[2]) {
    uint8_t message[20];
    memcpy(message, &i, 8);
    memcpy(message + 8, "example.com.", 12);
    crypto_shorthash_siphashx24((uint8_t *)out, message, sizeof message, key);
}

/* The home line of a lookup (offset in the table) and, for a hit, its second read. */
static inline uint64_t home_offset(int pattern, uint64_t lo) {
    if (pattern == 0) return scale(lo, table_bytes / LINE) * LINE;
    const uint64_t bucket = scale(lo, hot_lines);
    if (pattern == 3) return bucket / 20 * PAGE + bucket % 20 * LINE;
    if (pattern == 5) return scale(lo, table_bytes / BLOCK) * BLOCK;
    if (pattern == 6) return scale(lo, table_bytes / PAIR) * PAIR;
    return bucket * LINE;
}

static inline uint64_t record_offset(int pattern, uint64_t home, uint64_t hi) {
    const uint64_t record = scale(hi, entries);
    switch (pattern) {
    case 1: return hot_lines * LINE + record * 24;
    case 2: return hot_lines * LINE + (record * 24 & ~(uint64_t)(LINE - 1));
    case 3: return (home & ~(uint64_t)(PAGE - 1)) + 20 * LINE + hi % 117 * 24;
    case 5: return home + LINE + hi % 8 * 24;
    case 6: return home + LINE;
    default: return home + LINE;
    }
}

static double run(int pattern, uint64_t seed) {
    uint64_t lo[3][MAX_BATCH], hi[3][MAX_BATCH], home[3][MAX_BATCH], second[3][MAX_BATCH];
    const uint64_t batches = lookups / batch;
    const uint64_t hit_bound = (uint64_t)(hit_rate * 18446744073709551615.0);
    uint64_t sum = 0;
    const double start = bench_now();
    for (uint64_t step = 0; step < batches + 2; step++) {
        const int k = (int)(step % 3);
        if (step < batches) {
            for (uint64_t j = 0; j < batch; j++) {
                uint64_t d[2];
                digest(seed + step * batch + j, d);
                lo[k][j] = d[0];
                hi[k][j] = d[1];
                home[k][j] = home_offset(pattern, d[0]);
            }
            for (uint64_t j = 0; j < batch; j++) __builtin_prefetch(table + home[k][j], 0, 3);
            if (pattern == 7)
                for (uint64_t j = 0; j < batch; j++) __builtin_prefetch(table + scale(hi[k][j], hot_lines) * LINE + hot_lines * LINE, 0, 3);
            if (pattern == 5)
                for (uint64_t j = 0; j < batch; j++) __builtin_prefetch(table + home[k][j] + BLOCK, 0, 3);
            if (pattern == 0) {
                for (uint64_t j = 0; j < batch; j++) {
                    uint64_t w;
                    memcpy(&w, table + home[k][j], 8);
                    sum += w;
                }
                continue;
            }
        }
        if (pattern == 0) continue;
        if (step >= 1 && step - 1 < batches) {
            const int p = (int)((step - 1) % 3);
            for (uint64_t j = 0; j < batch; j++) {
                uint64_t w;
                memcpy(&w, table + home[p][j], 8);
                sum += w;
                /* The block layout's spill: the next block's fingerprint line, read when this one
                   is full and every fingerprint smaller (17 % of lookups at 0.81 full). Its
                   address depends on the word just read (`w & 8`: 0 or 8 bytes further), as a
                   scan's next read depends on the bucket it scanned. */
                if (pattern == 5 && lo[p][j] % 100 < 17 && home[p][j] + 2 * BLOCK <= table_bytes) {
                    memcpy(&w, table + home[p][j] + BLOCK + (w & 8), 8);
                    sum += w;
                }
                const int hit = hi[p][j] * 0x9E3779B97F4A7C15ULL <= hit_bound;
                /* The two-choice layout's second pair: 17.5 % of hits are stored there, and 1 %
                   of misses pass the home pair's filter. Its address depends on the home line's
                   word, as the real lookup's decision does. */
                if (pattern == 6 && lo[p][j] % 1000 < (hit ? 175u : 10u)) {
                    const uint64_t other = scale(hi[p][j] ^ (w & 1), table_bytes / PAIR) * PAIR;
                    second[p][j] = hit ? other + LINE : other;
                    __builtin_prefetch(table + other, 0, 3);
                    if (hit) __builtin_prefetch(table + other + LINE, 0, 3);
                } else if (pattern == 7) {
                    second[p][j] = scale(hi[p][j], hot_lines) * LINE + hot_lines * LINE;
                } else if (hit) {
                    second[p][j] = record_offset(pattern, home[p][j], hi[p][j]);
                    __builtin_prefetch(table + second[p][j], 0, 3);
                    __builtin_prefetch(table + second[p][j] + 23, 0, 3);
                } else {
                    second[p][j] = UINT64_MAX;
                }
            }
        }
        if (step >= 2) {
            const int p = (int)((step - 2) % 3);
            for (uint64_t j = 0; j < batch; j++) {
                if (second[p][j] == UINT64_MAX) continue;
                uint64_t w;
                memcpy(&w, table + second[p][j] + 16, 8);
                sum += w;
            }
        }
    }
    const double elapsed = bench_now() - start;
    sink += sum;
    return elapsed;
}

int main(int argc, char **argv) {
/* The value after flag argv[i] (NULL when the flag is last), as a positive number. */
#define NUMBER(flag) bench_positive_number("MemoryPatterns", ++i < argc ? argv[i] : NULL, (flag))
    entries = 10000000;
    lookups = 2000000;
    batch = 32;
    hit_rate = 0.5;
    uint64_t rounds = 15;
    int huge = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--entries")) entries = NUMBER("--entries");
        else if (!strcmp(argv[i], "--lookups")) lookups = NUMBER("--lookups");
        else if (!strcmp(argv[i], "--rounds")) rounds = NUMBER("--rounds");
        else if (!strcmp(argv[i], "--batch")) batch = NUMBER("--batch");
        else if (!strcmp(argv[i], "--hit-rate")) {
            char *end;
            const char *text = ++i < argc ? argv[i] : "";
            hit_rate = strtod(text, &end);
            if (*text == 0 || *end != 0) {
                fprintf(stderr, "MemoryPatterns: --hit-rate needs a fraction between 0 and 1, not '%s'\n", text);
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--huge-pages")) huge = 1;
        else {
            fprintf(stderr, "usage: MemoryPatterns [--entries N] [--lookups N] [--rounds N] [--batch N] "
                            "[--hit-rate F] [--huge-pages]\n");
            return 2;
        }
    }
    if (batch > MAX_BATCH || rounds > MAX_ROUNDS || hit_rate < 0 || hit_rate > 1 || lookups < batch) {
        fprintf(stderr, "MemoryPatterns: batch ≤ %d, rounds ≤ %d, 0 ≤ hit rate ≤ 1, lookups ≥ batch\n", MAX_BATCH,
                MAX_ROUNDS);
        return 2;
    }
    if (sodium_init() < 0) return 1;
    randombytes_buf(key, sizeof key);
    /* A format 3 snapshot's size: ceil(5n / 21) bucket lines, then 24 bytes per entry. */
    hot_lines = (entries * 5 + 20) / 21;
    cold_bytes = entries * 24;
    table_bytes = hot_lines * LINE + cold_bytes;
    /* The page-local pattern needs hot_lines / 20 pages (a little more than the others). */
    const uint64_t mapped = table_bytes + (hot_lines / 20 + 2) * PAGE;
    table = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) {
        perror("MemoryPatterns: mmap");
        return 1;
    }
    if (huge) madvise(table, mapped, MADV_HUGEPAGE);
    memset(table, 0x5A, mapped);

    double ratios[PATTERNS][MAX_ROUNDS], reference[MAX_ROUNDS];
    for (int pattern = 0; pattern < PATTERNS; pattern++) run(pattern, 0); /* warm-up */
    for (uint64_t r = 0; r < rounds; r++) {
        const double base = run(0, (r + 1) * lookups);
        reference[r] = (double)lookups / base;
        for (int pattern = 1; pattern < PATTERNS; pattern++) ratios[pattern][r] = base / run(pattern, (r + 1) * lookups);
    }
    qsort(reference, rounds, sizeof(double), bench_compare_doubles);
    printf("{\"name\":\"memory_patterns\",\"entries\":%llu,\"table_bytes\":%llu,\"lookups\":%llu,\"batch\":%llu,"
           "\"hit_rate\":%.3f,\"rounds\":%llu,\"huge_pages\":%s,\"reference_lookups_per_second\":%.0f",
           (unsigned long long)entries, (unsigned long long)table_bytes, (unsigned long long)lookups,
           (unsigned long long)batch, hit_rate, (unsigned long long)rounds, huge ? "true" : "false",
           reference[rounds / 2]);
    for (int pattern = 1; pattern < PATTERNS; pattern++) {
        qsort(ratios[pattern], rounds, sizeof(double), bench_compare_doubles);
        printf(",\"%s\":{\"ratio\":%.3f,\"min\":%.3f,\"max\":%.3f}", names[pattern], ratios[pattern][rounds / 2],
               ratios[pattern][0], ratios[pattern][rounds - 1]);
    }
    printf(",\"checksum\":%llu}\n", (unsigned long long)(sink & 0xFFFF));
    munmap(table, mapped);
    return 0;
}
