/* The C floor (cfcntl.tools._floor): n calls of one syscall in a C loop, the struct built
   as cfcntl builds it.  Each returns nanoseconds per call (CLOCK_MONOTONIC), or -1 when
   a call failed or the kernel answered otherwise than `expect`: no Python binding can
   beat these numbers on the machine that measured them.  A tool, not a helper: the
   protocol of cfcntl.h does not apply. */
#ifndef CFCNTL_FLOOR_H
#define CFCNTL_FLOOR_H

#include "cfcntl.h"

/* cdef: begin */
/* F_GETLK or F_OFD_GETLK on one range; the kernel must leave l_type == expect. */
double cf_floor_getlk(int fd, int cmd, short type, off_t start, off_t len, short expect, long n);
/* F_SETLK or F_OFD_SETLK: lock the range with `type`, then unlock it, n times. */
double cf_floor_setlk(int fd, int cmd, short type, off_t start, off_t len, long n);
/* FIONREAD: the kernel must report `expect` bytes waiting. */
double cf_floor_fionread(int fd, int expect, long n);
/* F_GETFL: the kernel must answer `expect`. */
double cf_floor_getfl(int fd, int expect, long n);
/* cdef: end */

#endif
