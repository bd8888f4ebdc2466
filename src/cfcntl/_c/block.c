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
