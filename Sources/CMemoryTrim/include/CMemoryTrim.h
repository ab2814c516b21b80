#ifndef FEEDCORPUS_CMEMORYTRIM_H
#define FEEDCORPUS_CMEMORYTRIM_H
/// Returns the free pages of every malloc arena to the system (glibc malloc_trim(0)); a no-op
/// elsewhere. Swift's Glibc module does not export malloc.h.
void fc_release_free_memory(void);
#endif
