#ifndef FEEDCORPUS_CBENCHHEAP_H
#define FEEDCORPUS_CBENCHHEAP_H
#include <stddef.h>
/// Readies the calling thread's glibc malloc heap for about `bytes` of small allocations (see
/// HeapReservation in feedcorpus-bench). Returns 1 when the heap was extended, 0 when nothing
/// was done (not glibc, or the request was refused). Harmless either way.
int fc_reserve_heap(size_t bytes);
#endif
