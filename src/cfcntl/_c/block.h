/* Block devices (src/cfcntl/ioctls/block.py): BLKGETSIZE64 here, BLKSSZGET as a row. */
#ifndef CFCNTL_BLOCK_H
#define CFCNTL_BLOCK_H

#include "cfcntl.h"

#include <linux/fs.h>

/* cdef: begin */
/* BLKGETSIZE64: the device's size, a u64; cfcntl.h's 64-bit alternative. */
uint64_t cf_blkgetsize64(int fd);
/* cdef: end */

#endif
