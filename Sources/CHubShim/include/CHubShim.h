#ifndef CHUBSHIM_H
#define CHUBSHIM_H
#include <stddef.h>
#include <stdint.h>

/* Prefetch the cache line holding `address` for reading (__builtin_prefetch, locality 3). */
static inline void chub_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/*
 * The matcher benchmark's C reference loop (Benchmarks/MatcherBench, docs/BENCHMARKS.md).
 *
 * For each of `count` queries (query i is bytes[offsets[i] ..< offsets[i + 1]]): libsodium
 * crypto_shorthash_siphashx24 of the query bytes under `key` (16 bytes), then one read of
 * the 64-byte line at index floor(lo * lines / 2^64) of `table` (lo = the first 8 digest
 * bytes, little-endian). Queries are taken `batch` at a time (batch <= 256): hash all, then
 * prefetch all their lines, then read them. Returns a checksum of the reads so the compiler
 * cannot drop them.
 */
uint64_t chub_reference_lookups(const uint8_t *table, uint64_t lines,
                                const uint8_t *bytes, const uint64_t *offsets, size_t count,
                                size_t batch, const uint8_t *key);
#endif
