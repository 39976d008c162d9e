/*
 * SipHashBench: the batch digest's SipHash-2-4-128 kernels (CHubSipHash) against libsodium's
 * crypto_shorthash_siphashx24 (the matcher reference loop's hash) on the same messages, in one
 * run (docs/BENCHMARKS.md, "The SipHash kernels against libsodium"). Two kinds of message, as the
 * matcher benchmark's workload has them: IPv4 addresses (`version || type || 4 bytes`, one
 * final word each) and names of 10-32 bytes after the two prefix bytes (2-5 words).
 *
 * For each kind, two ways over the same messages, rounds alternating:
 *   batch     the kernel called with 32 messages at a time, as the matcher calls it
 *   sodium    libsodium, one message at a time
 * Every digest of the kernel is checked against libsodium's before timing. Prints one JSON
 * object: nanoseconds per message (median over rounds) and the ratio (> 1: the kernel is
 * faster). To time another version of the kernel, compile this file with that version's
 * siphash128.c (docs/BENCHMARKS.md gives the command).
 *
 * usage: SipHashBench [--messages N] [--rounds N]
 */
#include "CHubSipHash.h"
#include "CBenchSupport.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 32, MAX_ROUNDS = 99, MAX_WORDS = 5 };

struct messages {
    size_t count;
    uint8_t *bytes;     /* message i at bytes + 40 i, lengths[i] bytes */
    uint32_t *lengths;
    uint64_t *words;    /* message i's words at words + firsts[i] */
    uint32_t *firsts, *counts;
    uint64_t *digests;  /* 2 per message */
};

static uint8_t key[crypto_shorthash_siphashx24_KEYBYTES];
static uint64_t k0, k1;
static uint64_t sink;

static uint64_t load_le(const uint8_t *p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* SipHash's message words of n bytes: n / 8 full blocks, then the final word (the last n % 8
   bytes with n mod 256 in the top byte). */
static uint32_t cut_words(const uint8_t *p, size_t n, uint64_t *out) {
    uint32_t w = 0;
    for (; (size_t)(w + 1) * 8 <= n; w++) out[w] = load_le(p + 8 * w, 8);
    out[w] = load_le(p + 8 * w, n % 8) | (uint64_t)(n & 0xFF) << 56;
    return w + 1;
}

static struct messages make(size_t count, int names) {
    struct messages m = {count, calloc(count, 40), calloc(count, 4), calloc(count * MAX_WORDS, 8),
                         calloc(count, 4), calloc(count, 4), calloc(2 * count + 2, 8)};
    if (!m.bytes || !m.lengths || !m.words || !m.firsts || !m.counts || !m.digests) {
        fprintf(stderr, "SipHashBench: out of memory\n");
        exit(1);
    }
    uint32_t next = 0;
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = m.bytes + 40 * i;
        p[0] = 1;                 /* canonicaliser version */
        p[1] = names ? 3 : 1;     /* a type byte */
        const uint32_t body = names ? 10 + randombytes_uniform(23) : 4;
        for (uint32_t b = 0; b < body; b++) p[2 + b] = names ? (uint8_t)('a' + randombytes_uniform(26)) : (uint8_t)randombytes_random();
        m.lengths[i] = body + 2;
        m.firsts[i] = next;
        m.counts[i] = cut_words(p, m.lengths[i], m.words + next);
        next += m.counts[i];
    }
    return m;
}

/* 0 batch, 1 sodium: one pass over all messages. */
static void pass(const struct messages *m, int names, int way) {
    const size_t step = BATCH;
    if (way == 1) {
        for (size_t i = 0; i < m->count; i++)
            crypto_shorthash_siphashx24((uint8_t *)(m->digests + 2 * i), m->bytes + 40 * i, m->lengths[i], key);
        return;
    }
    for (size_t g = 0; g < m->count; g += step) {
        const size_t n = m->count - g < step ? m->count - g : step;
        if (names) {
            /* The words of messages g ..< g + n, with their firsts relative to message g's. */
            const uint64_t *words = m->words + m->firsts[g];
            uint32_t firsts[BATCH];
            for (size_t i = 0; i < n; i++) firsts[i] = m->firsts[g + i] - m->firsts[g];
            chub_siphash128_words(1, k0, k1, words, firsts, m->counts + g, n, m->digests + 2 * g);
        } else {
            chub_siphash128_final_words(1, k0, k1, m->words + g, n, m->digests + 2 * g);
        }
    }
}

static void check(const struct messages *m, int names) {
    memset(m->digests, 0, 16 * m->count);
    pass(m, names, 0);
    for (size_t i = 0; i < m->count; i++) {
        uint8_t expected[16];
        crypto_shorthash_siphashx24(expected, m->bytes + 40 * i, m->lengths[i], key);
        if (memcmp(expected, m->digests + 2 * i, 16) != 0) {
            fprintf(stderr, "SipHashBench: %s message %zu differs from libsodium\n", names ? "name" : "ipv4", i);
            exit(1);
        }
    }
}

int main(int argc, char **argv) {
/* The value after flag argv[i] (NULL when the flag is last), as a positive number. */
#define NUMBER(flag) bench_positive_number("SipHashBench", ++i < argc ? argv[i] : NULL, (flag))
    size_t count = 4096;
    uint64_t rounds = 31;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--messages")) count = NUMBER("--messages");
        else if (!strcmp(argv[i], "--rounds")) rounds = NUMBER("--rounds");
        else {
            fprintf(stderr, "usage: SipHashBench [--messages N] [--rounds N]\n");
            return 2;
        }
    }
    if (rounds > MAX_ROUNDS) {
        fprintf(stderr, "SipHashBench: --rounds at most %d\n", MAX_ROUNDS);
        return 2;
    }
    if (sodium_init() < 0) return 1;
    if (!chub_siphash128_avx2_available()) {
        fprintf(stderr, "SipHashBench: this CPU has no AVX2; the kernels would run the portable code\n");
        return 1;
    }
    randombytes_buf(key, sizeof key);
    k0 = load_le(key, 8);
    k1 = load_le(key + 8, 8);
    printf("{\"name\":\"siphash_kernels\",\"messages\":%zu,\"rounds\":%llu", count, (unsigned long long)rounds);
    for (int names = 0; names < 2; names++) {
        const struct messages m = make(count, names);
        check(&m, names);
        double ns[2][MAX_ROUNDS];
        const int repeat = 16;
        for (uint64_t r = 0; r < rounds; r++) {
            for (int way = 0; way < 2; way++) {
                const double start = bench_now();
                for (int k = 0; k < repeat; k++) pass(&m, names, way);
                ns[way][r] = (bench_now() - start) * 1e9 / ((double)count * repeat);
                sink += m.digests[1];
            }
        }
        for (int way = 0; way < 2; way++) qsort(ns[way], rounds, sizeof(double), bench_compare_doubles);
        const double batch = ns[0][rounds / 2], sodium = ns[1][rounds / 2];
        printf(",\"%s\":{\"kernel_ns\":%.2f,\"sodium_ns\":%.2f,\"ratio\":%.3f}", names ? "names" : "ipv4", batch,
               sodium, sodium / batch);
    }
    printf(",\"checksum\":%llu}\n", (unsigned long long)(sink & 0xFFFF));
    return 0;
}
