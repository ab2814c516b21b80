#ifndef FEEDCORPUS_CMALLOCTUNING_H
#define FEEDCORPUS_CMALLOCTUNING_H
#include <stddef.h>
/// Sets glibc malloc's largest number of arenas and a fixed mmap threshold (blocks at or above
/// it are mapped on their own and unmapped when freed). Call before any thread starts. Returns 1
/// when both were set, 0 otherwise (not glibc, or refused). Harmless either way.
int fc_tune_malloc(int arenas, size_t mmap_threshold);
#endif
