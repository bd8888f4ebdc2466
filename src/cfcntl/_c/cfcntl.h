/* cfcntl's C side: what every family shares.

   The build (build_ffi.py) hands the .c files of src/cfcntl/_c/ to cffi and makes the
   cdef from the .h files: in each, the declarations between the "cdef: begin" and
   "cdef: end" comments, and the text of a "cdef-only:" comment, which holds what only
   cffi reads (structs with "...;", "typedef int... T;", "#define NAME ...").

   THE PROTOCOL.  Every helper returns int64_t: on success the syscall's result (an int,
   so between INT32_MIN and INT32_MAX; F_GETOWN's negated process group is a result),
   on failure CF_FAILED - errno.  The errno travels with the result because a Python
   signal handler that runs between the helper's return and the caller's read of cffi's
   saved errno can make a failing call of its own and change that errno.  Python turns a
   result <= CF_FAILED into OSError (cfcntl._syscall.failure).
   The one alternative, for a helper whose answer needs all 64 bits (the packed winsize,
   BLKGETSIZE64): it returns uint64_t, CF_U64_FAILED (UINT64_MAX) with errno set on
   failure, and sets errno to 0 when UINT64_MAX is the real answer; Python reads cffi's
   errno only after that value (so only there could a handler's call change it). */
#ifndef CFCNTL_H
#define CFCNTL_H

/* The .c files are compiled apart from the module cffi makes, which includes Python.h
   first, and so the C library's headers as pyconfig.h sets them up: large-file
   support, a 64-bit off_t.  Every .c file must see the same, or on a 32-bit ABI the
   two sides of one call disagree on off_t and on struct flock (16 bytes against 24 on
   i386) and F_SETLK is the 32-bit command (issue 16).  On 64-bit ABIs nothing changes. */
#define _FILE_OFFSET_BITS 64
#define _LARGEFILE_SOURCE 1
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <time.h>

/* cdef-only:
typedef int... off_t;
typedef int... pid_t;
#define CF_FAILED ...
#define CF_U64_FAILED ...
struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; ...; };
*/

#define CF_FAILED (-((int64_t)1 << 32))
#define CF_U64_FAILED UINT64_MAX

/* A syscall's int result under the protocol. */
static inline int64_t cf_result(int ret) { return ret == -1 ? CF_FAILED - errno : ret; }

/* The protocol's failure for an errno the helper chose itself (EBADF, ENOTTY...). */
static inline int64_t cf_fail(int err) { return CF_FAILED - err; }

/* CLOCK_MONOTONIC in nanoseconds: the lock manager's deadlines, the C floor's timing. */
static inline int64_t cf_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* A struct flock for one range, zeroed first (l_pid must be 0 for the OFD commands). */
static inline void cf_fill_flock(struct flock *fl, short type, off_t start, off_t len,
                                 short whence)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = whence;
    fl->l_start = start;
    fl->l_len = len;
}

/* One record-lock command on a struct flock built from scalars: fcntl's result.  A
   negative fd never reaches the kernel (EBADF here; Python reports it as ValueError). */
static inline int cf_flock_cmd(int fd, int cmd, struct flock *fl, short type, off_t start,
                               off_t len, short whence)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    cf_fill_flock(fl, type, start, len, whence);
    return fcntl(fd, cmd, fl);
}

#endif
