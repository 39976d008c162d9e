#ifndef CHUBSIPHASH_H
#define CHUBSIPHASH_H
#include <stddef.h>
#include <stdint.h>

/*
 * SipHash-2-4 with a 128-bit output (the digest of docs/STORE-FORMAT.md, the same function as
 * libsodium's crypto_shorthash_siphashx24) over messages already cut into SipHash's 64-bit
 * message words, four messages at a time in the 64-bit lanes of AVX2 registers when the CPU
 * has AVX2, else one at a time in portable C. Used by IndicatorKit's batch digest
 * (DigestKey+Batch.swift); see docs/BENCHMARKS.md, "SIMD SipHash".
 *
 * A message of n bytes is n / 8 + 1 words: the full 8-byte blocks read little-endian, then the
 * final word (the last n % 8 bytes, little-endian, with n mod 256 in the top byte). The caller
 * builds the words (the canonicaliser's scanner emits them as it validates), so the kernel
 * reads no bytes and needs no masking.
 */

/* 1 when the AVX2 kernel can run here (the CPU has AVX2 and the OS saves the YMM registers),
   else 0. Checked once with CPUID/XGETBV, then cached. Always 0 off x86-64. */
int chub_siphash128_avx2_available(void);

/*
 * Digests `count` messages: message i is the counts[i] words at words + firsts[i]; a message
 * with counts[i] == 0 is skipped (its digest slots are not written). Writes output bytes 0-7
 * and 8-15 of message i, read little-endian, to digests[2i] and digests[2i + 1].
 * (k0, k1) = key bytes 0-7 and 8-15 read little-endian.
 *
 * With `avx2` non-zero and chub_siphash128_avx2_available(), messages are sorted by word count
 * and hashed four at a time (lanes of unequal length are handled by masking); otherwise, or
 * with `avx2` zero, one at a time. Both give the same digests.
 */
void chub_siphash128_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *words,
                           const uint32_t *firsts, const uint32_t *counts, size_t count,
                           uint64_t *digests);

/*
 * Digests `count` messages of one word each (messages of 0-7 bytes: each is its final word;
 * an IPv4 address's `version || type || 4 bytes` is one), given back to back at `finals`:
 * no sorting or gathering, four loaded at once. Digests as above.
 */
void chub_siphash128_final_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                 uint64_t *digests);

/*
 * Four messages exactly as given, one per lane, without sorting (for tests of unequal lanes):
 * message i is counts[i] >= 1 words at messages[i]; digests as above, digests[0..<8].
 * Falls back to the portable code like chub_siphash128_words.
 */
void chub_siphash128_x4(int avx2, uint64_t k0, uint64_t k1, const uint64_t *const messages[4],
                        const uint32_t counts[4], uint64_t digests[8]);

/*
 * The batch digest's IPv4 scanner (ipv4.c): when the n bytes at p are a strict dotted quad
 * (four octets 0-255 of 1-3 digits, no leading zero, nothing else; 7 <= n <= 15), returns
 * 2^32 | address, the address with its first octet in the top byte; otherwise 0. Reads only
 * p[0..<n]. Only ever accepts what Canonicalizer.fastIPv4 (Swift) accepts, with the same
 * address. Call only when chub_siphash128_avx2_available() (SSSE3 instructions in VEX form);
 * off x86-64 it is a stub that declines everything.
 */
uint64_t chub_ipv4_scan_avx2(const uint8_t *p, size_t n);

/*
 * The batch digest's name scanner (name.c), for names of 3-64 bytes: when the n bytes at p are
 * a name Canonicalizer.fastDomain (Swift) accepts (with `detecting` as there), writes the
 * lower-cased name to out and the SipHash message words of `prefix || name` (prefix: the two
 * bytes version, type, little-endian) to words, and returns the number of words (>= 1);
 * returns 0 when it declines (the general canonicaliser decides) and -1, writing nothing, when
 * n is outside 3-64 (the Swift scanner decides). Reads only p[0..<n]; writes up to 16 bytes
 * past out + n and up to 98 bytes from words (the caller's scratch has room). Call only when
 * chub_siphash128_avx2_available(); off x86-64 a stub that returns -1.
 */
long chub_name_scan_avx2(const uint8_t *p, size_t n, int detecting, uint16_t prefix, uint8_t *out,
                         uint64_t *words);
#endif
