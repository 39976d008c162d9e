#include "CHubShim.h"
#include <sodium.h>
#include <string.h>

uint64_t chub_reference_lookups(const uint8_t *table, uint64_t lines,
                                const uint8_t *bytes, const uint64_t *offsets, size_t count,
                                size_t batch, const uint8_t *key) {
    uint64_t index[256];
    uint64_t sum = 0;
    if (batch == 0 || batch > 256) batch = 256;
    for (size_t start = 0; start < count; start += batch) {
        size_t n = count - start < batch ? count - start : batch;
        for (size_t j = 0; j < n; j++) {
            uint64_t from = offsets[start + j];
            uint64_t to = offsets[start + j + 1];
            unsigned char digest[crypto_shorthash_siphashx24_BYTES];
            crypto_shorthash_siphashx24(digest, bytes + from, to - from, key);
            uint64_t lo;
            memcpy(&lo, digest, sizeof lo);
            uint64_t line = (uint64_t)(((unsigned __int128)lo * lines) >> 64);
            index[j] = line;
        }
        /* Prefetches back to back: interleaving them with hashing makes each wait for its
           page walk on this machine (2.4x slower at 4 GB: 397 against 168 ns per lookup, in the
           first docs/BENCHMARKS.md, commit 8814f80). */
        for (size_t j = 0; j < n; j++) {
            __builtin_prefetch(table + index[j] * 64, 0, 3);
        }
        for (size_t j = 0; j < n; j++) {
            uint64_t word;
            memcpy(&word, table + index[j] * 64, sizeof word);
            sum += word;
        }
    }
    return sum;
}
