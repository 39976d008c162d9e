#ifndef CHUBSHIM_H
#define CHUBSHIM_H
#include <stddef.h>
#include <stdint.h>

/* Prefetch the cache line holding `address` for reading (__builtin_prefetch, locality 3). */
static inline void chub_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
