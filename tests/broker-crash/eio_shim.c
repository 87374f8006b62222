/* eio_shim: an LD_PRELOAD library for the runtime fail-stop test
 * (tests/broker-crash/failstop_test.py). It makes fsync and fdatasync (and,
 * with MILLRACE_EIO_PWRITE=1, pwrite) fail with EIO for every file descriptor
 * that names MILLRACE_EIO_DIR or a file under it, once the file
 * MILLRACE_EIO_TRIGGER exists; before that, and for every other descriptor,
 * it calls the real function. The test creates the trigger while the broker
 * runs, so the broker sees a disk that fails under it (as after a cable pull or
 * a failing sector), not a process started into failure.
 *
 * Plain libc only, no sanitizer instrumentation (tests/broker-crash/
 * CMakeLists.txt strips it), so it can follow libasan in LD_PRELOAD under an
 * ASan build. Thread-safe: every call only reads the environment and /proc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* 1 when the trigger exists and fd names the target dir or a file under it. */
static int fails(int fd) {
  const char* trigger = getenv("MILLRACE_EIO_TRIGGER");
  const char* dir = getenv("MILLRACE_EIO_DIR");
  if (!trigger || !dir || !*dir || access(trigger, F_OK) != 0) return 0;
  char link[64];
  char path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  size_t len = strlen(dir);
  if (strncmp(path, dir, len) != 0 || (path[len] != '/' && path[len] != '\0')) return 0;
  char note[PATH_MAX + 64];
  int m = snprintf(note, sizeof note, "eio_shim: EIO for fd %d (%s)\n", fd, path);
  if (m > 0) (void)!write(2, note, (size_t)m < sizeof note ? (size_t)m : sizeof note - 1);
  return 1;
}

static void* real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (!f) {
    static const char msg[] = "eio_shim: dlsym failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
  }
  return f;
}

/* EIO when fails(fd), else the real sync call. */
static int sync_or_fail(int fd, int (*next)(int)) {
  if (fails(fd)) {
    errno = EIO;
    return -1;
  }
  return next(fd);
}

int fsync(int fd) {
  static int (*next)(int);
  if (!next) next = (int (*)(int))real("fsync");
  return sync_or_fail(fd, next);
}

int fdatasync(int fd) {
  static int (*next)(int);
  if (!next) next = (int (*)(int))real("fdatasync");
  return sync_or_fail(fd, next);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static ssize_t (*next)(int, const void*, size_t, off_t);
  if (!next) next = (ssize_t(*)(int, const void*, size_t, off_t))real("pwrite");
  const char* on = getenv("MILLRACE_EIO_PWRITE");
  if (on && strcmp(on, "1") == 0 && fails(fd)) {
    errno = EIO;
    return -1;
  }
  return next(fd, buf, count, offset);
}
