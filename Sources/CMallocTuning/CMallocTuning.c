#include "CMallocTuning.h"
// stdlib.h brings in features.h, which defines __GLIBC__: without it the check below is false.
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int fc_tune_malloc(int arenas, size_t mmap_threshold) {
#if defined(__GLIBC__)
    int arenasSet = mallopt(M_ARENA_MAX, arenas);
    int thresholdSet = mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
    return arenasSet == 1 && thresholdSet == 1;
#else
    (void)arenas;
    (void)mmap_threshold;
    return 0;
#endif
}
