#include "fs.h"

/* With headers older than the request, a stand-in: Python raises NotImplementedError
   before calling it. */

int64_t cf_ficlone(int dst, int src)
{
#ifdef FICLONE
    return cf_result(ioctl(dst, FICLONE, src));
#else
    (void)dst;
    (void)src;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_ficlonerange(int dst, int src, uint64_t src_offset, uint64_t length,
                        uint64_t dst_offset)
{
#ifdef FICLONERANGE
    struct file_clone_range range;
    memset(&range, 0, sizeof range);
    range.src_fd = src;
    range.src_offset = src_offset;
    range.src_length = length;
    range.dest_offset = dst_offset;
    return cf_result(ioctl(dst, FICLONERANGE, &range));
#else
    (void)dst;
    (void)src;
    (void)src_offset;
    (void)length;
    (void)dst_offset;
    return cf_fail(ENOTTY);
#endif
}
