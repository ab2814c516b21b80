#ifndef FEEDCORPUS_CHEAPRESERVATION_H
#define FEEDCORPUS_CHEAPRESERVATION_H
#include <stddef.h>
/// Readies the calling thread's glibc malloc heap for about `bytes` of small allocations (see
/// HeapReservation in the feedcorpus command). Returns 1 when the heap was extended, 0 when
/// nothing was done (not glibc, or the request was refused). Harmless either way.
int fc_reserve_heap(size_t bytes);
/// Sets glibc malloc's largest number of arenas and a fixed mmap threshold (blocks at or above
/// it are mapped on their own and unmapped when freed). Call before any thread starts. Returns 1
/// when both were set, 0 otherwise (not glibc, or refused). Harmless either way.
int fc_tune_malloc(int arenas, size_t mmap_threshold);
#endif
