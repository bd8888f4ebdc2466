#include "block.h"

uint64_t cf_blkgetsize64(int fd)
{
#ifdef BLKGETSIZE64
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) == -1)
        return CF_U64_FAILED;
    if (size == CF_U64_FAILED)
        errno = 0;
    return size;
#else
    (void)fd;
    errno = ENOTTY;
    return CF_U64_FAILED;
#endif
}

/* One byte-range request; a stand-in without it (Python raises NotImplementedError
   before calling). */
#define CF_RANGE_REQUEST(helper, request)                                                  \
    int64_t helper(int fd, uint64_t start, uint64_t length)                                \
    {                                                                                      \
        uint64_t range[2] = {start, length};                                               \
        return cf_result(ioctl(fd, request, range));                                       \
    }
#define CF_RANGE_ABSENT(helper)                                                            \
    int64_t helper(int fd, uint64_t start, uint64_t length)                                \
    {                                                                                      \
        (void)fd;                                                                          \
        (void)start;                                                                       \
        (void)length;                                                                      \
        return cf_fail(ENOTTY);                                                            \
    }

#ifdef BLKDISCARD
CF_RANGE_REQUEST(cf_blkdiscard, BLKDISCARD)
#else
CF_RANGE_ABSENT(cf_blkdiscard)
#endif
#ifdef BLKSECDISCARD
CF_RANGE_REQUEST(cf_blksecdiscard, BLKSECDISCARD)
#else
CF_RANGE_ABSENT(cf_blksecdiscard)
#endif
#ifdef BLKZEROOUT
CF_RANGE_REQUEST(cf_blkzeroout, BLKZEROOUT)
#else
CF_RANGE_ABSENT(cf_blkzeroout)
#endif
