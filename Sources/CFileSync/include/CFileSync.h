#ifndef FEEDCORPUS_CFILESYNC_H
#define FEEDCORPUS_CFILESYNC_H
/// Flushes the whole file system that holds `fd` (Linux syncfs(2)); returns 0 or -1 with errno.
/// Elsewhere falls back to fsync(fd). Glibc hides syncfs behind _GNU_SOURCE, which Swift's
/// Glibc module does not define.
int fc_syncfs(int fd);
#endif
