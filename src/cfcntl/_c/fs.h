/* Filesystems (src/cfcntl/ioctls/fs.py): the reflink copies, the extent map, dedupe,
   the label and FITRIM here; the inode flags, version, extended attributes and block
   size as rows of fs.py. */
#ifndef CFCNTL_FS_H
#define CFCNTL_FS_H

#include "cfcntl.h"

#include <stddef.h>

#include <linux/fiemap.h>
#include <linux/fs.h>

/* Where the flexible arrays begin: the variable-length arguments are allocated in
   Python as this header plus n records, from the compiler's offsets. */
#define CF_FIEMAP_EXTENTS_AT offsetof(struct fiemap, fm_extents)
#define CF_DEDUPE_INFO_AT offsetof(struct file_dedupe_range, info)

/* cdef-only:
struct file_clone_range { int64_t src_fd; uint64_t src_offset; uint64_t src_length;
                          uint64_t dest_offset; ...; };
struct fsxattr { uint32_t fsx_xflags; uint32_t fsx_extsize; uint32_t fsx_nextents;
                 uint32_t fsx_projid; uint32_t fsx_cowextsize; ...; };
struct fiemap_extent { uint64_t fe_logical; uint64_t fe_physical; uint64_t fe_length;
                       uint32_t fe_flags; ...; };
struct fiemap { uint64_t fm_start; uint64_t fm_length; uint32_t fm_flags;
                uint32_t fm_mapped_extents; uint32_t fm_extent_count; ...; };
struct file_dedupe_range_info { int64_t dest_fd; uint64_t dest_offset;
                                uint64_t bytes_deduped; int32_t status; ...; };
struct file_dedupe_range { uint64_t src_offset; uint64_t src_length; uint16_t dest_count;
                           ...; };
struct fstrim_range { uint64_t start; uint64_t len; uint64_t minlen; ...; };
#define CF_FIEMAP_EXTENTS_AT ...
#define CF_DEDUPE_INFO_AT ...
*/

/* cdef: begin */
/* FICLONE: dst shares all of src's blocks. */
int64_t cf_ficlone(int dst, int src);
/* FICLONERANGE from the range's fields. */
int64_t cf_ficlonerange(int dst, int src, uint64_t src_offset, uint64_t length,
                        uint64_t dst_offset);
/* FS_IOC_FIEMAP on the caller's struct fiemap, followed by fm_extent_count extents
   (CF_FIEMAP_EXTENTS_AT + n * sizeof(struct fiemap_extent) bytes, allocated by it). */
int64_t cf_fiemap(int fd, struct fiemap *map);
/* FIDEDUPERANGE on the caller's struct file_dedupe_range, followed by dest_count
   records (CF_DEDUPE_INFO_AT + n * sizeof(struct file_dedupe_range_info) bytes). */
int64_t cf_fideduperange(int src, struct file_dedupe_range *range);
/* FS_IOC_GETFSLABEL into the caller's char[FSLABEL_MAX]. */
int64_t cf_fs_getfslabel(int fd, char *label);
/* FS_IOC_SETFSLABEL: the kernel reads FSLABEL_MAX bytes, so length bytes of label are
   copied into a zeroed char[FSLABEL_MAX] (length < FSLABEL_MAX: Python checks). */
int64_t cf_fs_setfslabel(int fd, const char *label, size_t length);
/* FITRIM over [start, start + length) in free extents of at least minlen bytes: the
   bytes trimmed (the kernel writes them back into len); cfcntl.h's 64-bit alternative. */
uint64_t cf_fitrim(int fd, uint64_t start, uint64_t length, uint64_t minlen);
/* cdef: end */

#endif
