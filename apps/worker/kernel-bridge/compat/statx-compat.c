/*
 * Preloaded into the processes a kernel starts (shells, `!ls`, subprocesses): makes programs from
 * the image work on this gVisor release. runsc 20221219 answers statx() with EINVAL when the
 * flags include AT_NO_AUTOMOUNT, which coreutils 9 (Debian bookworm's ls, stat, cp...) always
 * passes, so `ls /workspace` failed with "Invalid argument". Automounts do not exist inside the
 * sandbox, so dropping the flag changes nothing else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

typedef int (*statx_fn)(int, const char *, int, unsigned int, struct statx *);

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  static statx_fn real;
  if (!real) real = (statx_fn)dlsym(RTLD_NEXT, "statx");
  return real(dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}
