#define _GNU_SOURCE
#include "CBenchHeap.h"
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int fc_reserve_heap(size_t bytes) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
    // glibc serves blocks below the mmap threshold from the thread's heap; 32 MiB is the
    // largest threshold it accepts. Setting it also stops glibc from moving it on its own.
    const size_t ceiling = (size_t)32 << 20;
    const size_t largest = ceiling - ((size_t)1 << 20);
    if (mallopt(M_MMAP_THRESHOLD, (int)ceiling) != 1) return 0;
    // All blocks are held at once so that each extends the heap (or starts the next one).
    enum { maximumBlocks = 8 };
    char *blocks[maximumBlocks];
    size_t sizes[maximumBlocks];
    int count = 0;
    size_t remaining = bytes;
    while (remaining > 0 && count < maximumBlocks) {
        size_t size = remaining < largest ? remaining : largest;
        char *block = malloc(size);
        if (block == NULL) break;
        blocks[count] = block;
        sizes[count] = size;
        count += 1;
        remaining -= size;
    }
    const uintptr_t huge = (uintptr_t)2 << 20;
    for (int index = 0; index < count; index++) {
        uintptr_t start = ((uintptr_t)blocks[index] + huge - 1) & ~(huge - 1);
        uintptr_t end = ((uintptr_t)blocks[index] + sizes[index]) & ~(huge - 1);
        if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
    // Freed at once: the heap keeps its extent (and the advice), only the pages go back.
    for (int index = count - 1; index >= 0; index--) free(blocks[index]);
    return count > 0;
#else
    (void)bytes;
    return 0;
#endif
}
