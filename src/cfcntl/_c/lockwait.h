/* The lock manager's hot path and its waits (src/cfcntl/manager.py, asynclock.py,
   semaphore.py). */
#ifndef CFCNTL_LOCKWAIT_H
#define CFCNTL_LOCKWAIT_H

#include "cfcntl.h"

#include <pthread.h>

/* A wait another thread can cancel (cf_wait_cancel): the waiting thread's timer, while
   it has one, under the mutex. */
struct cf_wait {
    int cancelled;
    int live;
    int timer;
    pthread_mutex_t mutex;
};

/* cdef-only:
struct cf_wait { ...; };
*/

/* cdef: begin */
/* Lock's acquire in one call (cf_lock_hold): place the lock (cmd) on the range of fd, or
   of path when it is not NULL, opened O_RDWR | O_CREAT | O_CLOEXEC (and closed again on
   failure); the descriptor, or the protocol's failure (EINVAL at once when usable is 0:
   a range C cannot hold, or a file object, which the Python path takes).  token is
   then fd + generation * 2**32, where the generation is this process's fork generation
   (1, and one more in each child forked since, counted by a pthread_atfork handler).
   cf_lock_drop is the release: unlock the token's range (unlock_cmd) if the token is
   of this generation (0), else leave it (1: a forked child's copy), and close its fd
   when path is not NULL; the protocol's failure if the unlock or the close failed. */
struct cf_lockspec {
    const char *path;
    int fd;
    int cmd;
    int unlock_cmd;
    int usable;
    short type;
    off_t start;
    off_t len;
    int64_t token;
};
int64_t cf_lock_hold(struct cf_lockspec *spec);
int64_t cf_lock_drop(struct cf_lockspec *spec);
/* This process's fork generation (the token's high half). */
int64_t cf_lock_generation(void);
/* Wait in wait_cmd (F_SETLKW or F_OFD_SETLKW) until the lock is placed (0) or
   CLOCK_MONOTONIC reaches deadline (ns): the protocol's failure with ETIMEDOUT. */
int64_t cf_lock_until(int fd, int try_cmd, int wait_cmd, short type, off_t start, off_t len,
                      short whence, int64_t deadline);
/* cf_lock_until that cf_wait_cancel(wait) ends from any thread: ECANCELED, the lock not
   taken (a lock placed before the cancel is kept: 0).  cf_wait_init first, once. */
int64_t cf_lock_until_cancellable(int fd, int try_cmd, int wait_cmd, short type,
                                  off_t start, off_t len, short whence, int64_t deadline,
                                  struct cf_wait *wait);
void cf_wait_init(struct cf_wait *wait);
void cf_wait_cancel(struct cf_wait *wait);
/* cdef: end */

#endif
