/* cfcntl.compat: the calls CPython's fcntl module makes, one fixed signature each.  Each
   returns under cfcntl.h's protocol (F_GETOWN's negated process group is a result). */
#ifndef CFCNTL_COMPAT_H
#define CFCNTL_COMPAT_H

#include "cfcntl.h"

#define CF_COMPAT_BUFSZ 1024
#define CF_COMPAT_GUARDSZ 8
/* What a copying call returns when the kernel wrote past the argument: below every
   failure (CF_FAILED - errno, errno < 4096). */
#define CF_COMPAT_OVERRUN (-((int64_t)1 << 33))
/* cf_compat_call's flags: copy the answer back into data; check the guard. */
#define CF_COMPAT_COPY_BACK 1
#define CF_COMPAT_CHECK 2

/* cdef-only:
#define CF_COMPAT_BUFSZ ...
#define CF_COMPAT_GUARDSZ ...
#define CF_COMPAT_OVERRUN ...
#define CF_COMPAT_COPY_BACK ...
#define CF_COMPAT_CHECK ...
*/

/* cdef: begin */
int64_t cf_compat_flock(int fd, int operation);
/* fcntl() with the argument left out: the stdlib passes an int 0. */
int64_t cf_compat_fcntl0(int fd, int cmd);
int64_t cf_compat_fcntl_int(int fd, int cmd, int arg);
/* ioctl with an int; EFAULT where powerpc's glibc would fault on it (compat.c). */
int64_t cf_compat_ioctl_int(int fd, unsigned long request, int arg);
int64_t cf_compat_ioctl_ptr(int fd, unsigned long request, char *arg);
/* lockf's record lock. */
int64_t cf_compat_setlk(int fd, int cmd, short type, off_t start, off_t len, short whence);
/* The stdlib's copy through the caller's buf (see compat.c). */
int64_t cf_compat_fcntl_in(int fd, int cmd, char *data, size_t len, char *buf, int flags);
int64_t cf_compat_ioctl_in(int fd, unsigned long request, char *data, size_t len, char *buf,
                           int flags);
/* ioctl on a writable buffer of len <= CF_COMPAT_BUFSZ bytes, through a copy on the C
   stack that goes back into data before the return. */
int64_t cf_compat_ioctl_mutate(int fd, unsigned long request, char *data, size_t len,
                               int flags);
/* Whether the type at address `type` has a bf_releasebuffer slot: 1 or 0; -1 on PyPy,
   which has no such rule.  Not a syscall: it cannot fail. */
int cf_compat_releases(uintptr_t type);
/* cdef: end */

#endif
