// Preloaded into `cairn` by the full-disk tests (tests/native/test_full_disk.cpp): once CAIRN_DISK_BYTES bytes have
// gone to files in this process, write() fails with ENOSPC, the write that crosses the limit cut short first, as on
// a disk that fills up mid-file. The terminal and pipes (fd 0-2) are not counted. Only direct write() calls are seen
// (the file store's); stdio's buffered writes go through glibc's internal entry point.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

ssize_t write(int fd, const void* buf, size_t n) {
    static ssize_t (*real_write)(int, const void*, size_t);
    static long long left = -2;  // -2: not read yet; -1: no limit
    if (!real_write) real_write = (ssize_t(*)(int, const void*, size_t))dlsym(RTLD_NEXT, "write");
    if (left == -2) {
        const char* s = getenv("CAIRN_DISK_BYTES");
        left = s ? atoll(s) : -1;
    }
    if (fd <= 2 || left < 0) return real_write(fd, buf, n);
    if (left == 0) {
        errno = ENOSPC;
        return -1;
    }
    if ((long long)n > left) n = (size_t)left;
    ssize_t written = real_write(fd, buf, n);
    if (written > 0) left -= written;
    return written;
}
