/* Filesystems (src/cfcntl/ioctls/fs.py): the reflink requests here, the inode flags,
   version and extended attributes as rows of fs.py. */
#ifndef CFCNTL_FS_H
#define CFCNTL_FS_H

#include "cfcntl.h"

#include <linux/fs.h>

/* cdef-only:
struct file_clone_range { int64_t src_fd; uint64_t src_offset; uint64_t src_length;
                          uint64_t dest_offset; ...; };
struct fsxattr { uint32_t fsx_xflags; uint32_t fsx_extsize; uint32_t fsx_nextents;
                 uint32_t fsx_projid; uint32_t fsx_cowextsize; ...; };
*/

/* cdef: begin */
/* FICLONE: dst shares all of src's blocks. */
int64_t cf_ficlone(int dst, int src);
/* FICLONERANGE from the range's fields. */
int64_t cf_ficlonerange(int dst, int src, uint64_t src_offset, uint64_t length,
                        uint64_t dst_offset);
/* cdef: end */

#endif
