#!/bin/sh
# Instructions per call of the vector name scanner alone (chub_name_scan_inline in
# Sources/CHubSipHash/scanners.h), counted by callgrind: a tiny C loop calls it a million times
# on one name (typed and detecting) and the per-call figure of its out-of-line wrapper is
# printed (call, prologue and return included: ~4-5 instructions more than when inlined into
# the batch loop). Compare two versions of the header with
#     scripts/name-scan-callgrind.sh                    # this worktree's
#     scripts/name-scan-callgrind.sh /path/to/CHubSipHash  # another checkout's sources
# Needs clang (the Swift toolchain's) and valgrind.
set -eu
src=${1:-$(dirname "$0")/../Sources/CHubSipHash}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/micro.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "scanners.h"
__attribute__((noinline)) CHUB_AVX2 long scan(const uint8_t *p, size_t n, int d, uint8_t *out, uint64_t *w) {
    return chub_name_scan_inline(p, n, d, 0x0301, out, w);
}
int main(int argc, char **argv) {
    const char *name = argv[1];
    int detect = atoi(argv[2]);
    size_t n = strlen(name);
    uint8_t out[128];
    uint64_t words[16];
    long s = 0;
    for (int i = 0; i < 1000000; i++) s += scan((const uint8_t *)name, n, detect, out, words);
    printf("%ld\n", s);
    return 0;
}
C
clang -O2 -I"$src" "$tmp/micro.c" -o "$tmp/micro"
for name in ab.cd example.com a7f3kq.example-shop.com www.some-long-subdomain.example-shop.co.uk \
    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com; do
    line=$(printf '%3d bytes' "${#name}")
    for detect in 0 1; do
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$tmp/micro" "$name" $detect >/dev/null 2>&1
        count=$(callgrind_annotate "$tmp/cg.out" | awk '/:scan /{gsub(",", "", $1); print $1 / 1000000}')
        line="$line  $( [ $detect = 1 ] && echo detect || echo typed ) $count"
    done
    echo "$line  $name"
done
