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

int64_t cf_fiemap(int fd, struct fiemap *map)
{
#ifdef FS_IOC_FIEMAP
    return cf_result(ioctl(fd, FS_IOC_FIEMAP, map));
#else
    (void)fd;
    (void)map;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_fideduperange(int src, struct file_dedupe_range *range)
{
#ifdef FIDEDUPERANGE
    return cf_result(ioctl(src, FIDEDUPERANGE, range));
#else
    (void)src;
    (void)range;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_fs_getfslabel(int fd, char *label)
{
#ifdef FS_IOC_GETFSLABEL
    return cf_result(ioctl(fd, FS_IOC_GETFSLABEL, label));
#else
    (void)fd;
    (void)label;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_fs_setfslabel(int fd, const char *label, size_t length)
{
#ifdef FS_IOC_SETFSLABEL
    char copy[FSLABEL_MAX];
    if (length >= sizeof copy)
        return cf_fail(EINVAL);
    memset(copy, 0, sizeof copy);
    memcpy(copy, label, length);
    return cf_result(ioctl(fd, FS_IOC_SETFSLABEL, copy));
#else
    (void)fd;
    (void)label;
    (void)length;
    return cf_fail(ENOTTY);
#endif
}

uint64_t cf_fitrim(int fd, uint64_t start, uint64_t length, uint64_t minlen)
{
#ifdef FITRIM
    struct fstrim_range range;
    memset(&range, 0, sizeof range);
    range.start = start;
    range.len = length;
    range.minlen = minlen;
    if (ioctl(fd, FITRIM, &range) == -1)
        return CF_U64_FAILED;
    if (range.len == CF_U64_FAILED)
        errno = 0;
    return range.len;
#else
    (void)fd;
    (void)start;
    (void)length;
    (void)minlen;
    errno = ENOTTY;
    return CF_U64_FAILED;
#endif
}
