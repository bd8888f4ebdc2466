/* Block devices (src/cfcntl/ioctls/block.py): BLKGETSIZE64 and the byte-range requests
   here; the getters, BLKROSET, BLKFLSBUF and BLKRRPART as rows of block.py. */
#ifndef CFCNTL_BLOCK_H
#define CFCNTL_BLOCK_H

#include "cfcntl.h"

#include <linux/fs.h>

/* cdef: begin */
/* BLKGETSIZE64: the device's size, a u64; cfcntl.h's 64-bit alternative. */
uint64_t cf_blkgetsize64(int fd);
/* BLKDISCARD, BLKSECDISCARD, BLKZEROOUT: the kernel reads uint64_t[2], start and
   length in bytes. */
int64_t cf_blkdiscard(int fd, uint64_t start, uint64_t length);
int64_t cf_blksecdiscard(int fd, uint64_t start, uint64_t length);
int64_t cf_blkzeroout(int fd, uint64_t start, uint64_t length);
/* cdef: end */

#endif
