/* The lock manager's wait with a deadline (src/cfcntl/manager.py). */
#ifndef CFCNTL_LOCKWAIT_H
#define CFCNTL_LOCKWAIT_H

#include "cfcntl.h"

/* cdef: begin */
/* Wait in wait_cmd (F_SETLKW or F_OFD_SETLKW) until the lock is placed (0) or
   CLOCK_MONOTONIC reaches deadline (ns): the protocol's failure with ETIMEDOUT. */
int64_t cf_lock_until(int fd, int try_cmd, int wait_cmd, short type, off_t start, off_t len,
                      short whence, int64_t deadline);
/* cdef: end */

#endif
