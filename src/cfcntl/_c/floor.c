#include "floor.h"

static double cf_per_call(int64_t since, long n) { return (double)(cf_now() - since) / n; }

double cf_floor_getlk(int fd, int cmd, short type, off_t start, off_t len, short expect, long n)
{
    struct flock fl;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (cf_flock_cmd(fd, cmd, &fl, type, start, len, SEEK_SET) < 0 || fl.l_type != expect)
            return -1;
    return cf_per_call(since, n);
}

double cf_floor_setlk(int fd, int cmd, short type, off_t start, off_t len, long n)
{
    struct flock fl;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (cf_flock_cmd(fd, cmd, &fl, type, start, len, SEEK_SET) < 0
            || cf_flock_cmd(fd, cmd, &fl, F_UNLCK, start, len, SEEK_SET) < 0)
            return -1;
    return cf_per_call(since, n);
}

double cf_floor_fionread(int fd, int expect, long n)
{
    int waiting;
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (ioctl(fd, FIONREAD, &waiting) < 0 || waiting != expect)
            return -1;
    return cf_per_call(since, n);
}

double cf_floor_getfl(int fd, int expect, long n)
{
    int64_t since = cf_now();
    for (long i = 0; i < n; i++)
        if (fcntl(fd, F_GETFL) != expect)
            return -1;
    return cf_per_call(since, n);
}
