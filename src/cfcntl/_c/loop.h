/* Loop devices (src/cfcntl/ioctls/loop.py): /dev/loop-control's requests, attaching a
   backing file (LOOP_CONFIGURE, LOOP_SET_FD), the status and the by-value settings
   here; LOOP_CLR_FD and LOOP_SET_CAPACITY as rows of loop.py. */
#ifndef CFCNTL_LOOP_H
#define CFCNTL_LOOP_H

#include "cfcntl.h"

#include <linux/loop.h>

/* cdef-only:
struct loop_info64 { uint64_t lo_device; uint64_t lo_inode; uint64_t lo_rdevice;
                     uint64_t lo_offset; uint64_t lo_sizelimit; uint32_t lo_number;
                     uint32_t lo_flags; uint8_t lo_file_name[...]; ...; };
struct loop_config { uint32_t fd; uint32_t block_size; struct loop_info64 info; ...; };
*/

/* cdef: begin */
/* LOOP_CTL_GET_FREE on /dev/loop-control: a free device's number (made if need be). */
int64_t cf_loop_ctl_get_free(int control);
/* LOOP_CTL_ADD: make /dev/loopN; its number. */
int64_t cf_loop_ctl_add(int control, int number);
/* LOOP_CTL_REMOVE: remove the unattached /dev/loopN; its number. */
int64_t cf_loop_ctl_remove(int control, int number);
/* LOOP_CONFIGURE: attach backing with everything at once; name is copied into
   lo_file_name, cut to fit and NUL-terminated. */
int64_t cf_loop_configure(int fd, int backing, uint64_t offset, uint64_t sizelimit,
                          uint32_t flags, uint32_t block_size, const char *name);
/* LOOP_SET_FD: attach backing with the defaults. */
int64_t cf_loop_set_fd(int fd, int backing);
/* LOOP_GET_STATUS64 into the caller's struct. */
int64_t cf_loop_get_status64(int fd, struct loop_info64 *answer);
/* LOOP_SET_STATUS64 from scalars (the kernel ignores the read-only fields). */
int64_t cf_loop_set_status64(int fd, uint64_t offset, uint64_t sizelimit, uint32_t flags,
                             const char *name);
/* LOOP_SET_BLOCK_SIZE: the logical block size, passed by value. */
int64_t cf_loop_set_block_size(int fd, unsigned long size);
/* LOOP_SET_DIRECT_IO: 1 for direct I/O on the backing file, 0 for buffered, by value. */
int64_t cf_loop_set_direct_io(int fd, unsigned long on);
/* cdef: end */

#endif
