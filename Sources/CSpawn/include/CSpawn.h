#ifndef FEEDCORPUS_CSPAWN_H
#define FEEDCORPUS_CSPAWN_H
// glibc's GNU extensions to posix_spawn, which Swift's Glibc module does not import.
#include <spawn.h>

/// Closes every descriptor from `lowest` up in the child (glibc 2.34+).
int fc_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest);
/// Changes the child's working directory before it runs (glibc 2.29+).
int fc_spawn_chdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
