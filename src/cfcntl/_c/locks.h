/* Record locks: F_GETLK, F_SETLK, F_SETLKW and their OFD twins (src/cfcntl/locks.py).
   Each helper takes (fd, type, start, len, whence), the order of the Python functions,
   and one helper per command, so that no command number crosses (each argument costs a
   conversion in the call). */
#ifndef CFCNTL_LOCKS_H
#define CFCNTL_LOCKS_H

#include "cfcntl.h"

/* The OFD commands came with Linux 3.15; with older headers their helpers answer EINVAL,
   and Python never calls them (it raises NotImplementedError first). */
#ifdef F_OFD_GETLK
#define CF_OFD_GETLK F_OFD_GETLK
#define CF_OFD_SETLK F_OFD_SETLK
#define CF_OFD_SETLKW F_OFD_SETLKW
#else
#define CF_OFD_GETLK (-1)
#define CF_OFD_SETLK (-1)
#define CF_OFD_SETLKW (-1)
#endif

/* The answer slots of the queries' fast form (cf_posix_getlk_slot). */
#define CF_SLOTS 64
extern int64_t cf_answers[CF_SLOTS][5];

/* cdef-only:
#define CF_SLOTS ...
extern int64_t cf_answers[...][5];
*/

/* cdef: begin */
/* Place, change or remove a lock: 0, or the protocol's failure. */
int64_t cf_posix_setlk(int fd, short type, off_t start, off_t len, short whence);
int64_t cf_posix_setlkw(int fd, short type, off_t start, off_t len, short whence);
int64_t cf_ofd_setlk(int fd, short type, off_t start, off_t len, short whence);
int64_t cf_ofd_setlkw(int fd, short type, off_t start, off_t len, short whence);
/* The queries into the caller's buffer: 0 when nothing conflicts, 1 when the conflicting
   lock is in `found` as five int64_t (type, whence, start, len, pid). */
int64_t cf_posix_getlk(int fd, short type, off_t start, off_t len, short whence,
                       int64_t *found);
int64_t cf_ofd_getlk(int fd, short type, off_t start, off_t len, short whence,
                     int64_t *found);
/* The queries' fast form, with no buffer: 0 when nothing conflicts, k + 1 when the
   conflicting lock is in cf_answers[k], a slot claimed for the caller until it calls
   cf_answer_free(k + 1); CF_SLOTS + 1 when a lock conflicts but every slot is claimed
   (ask again with a buffer). */
int64_t cf_posix_getlk_slot(int fd, short type, off_t start, off_t len, short whence);
int64_t cf_ofd_getlk_slot(int fd, short type, off_t start, off_t len, short whence);
void cf_answer_free(int64_t found);
/* cdef: end */

#endif
