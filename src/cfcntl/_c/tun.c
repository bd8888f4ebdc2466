#include "tun.h"

int64_t cf_tunsetiff(int fd, const char *name, int flags, char *answer)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = (short)flags;
    if (ioctl(fd, TUNSETIFF, &ifr) == -1)
        return cf_fail(errno);
    memcpy(answer, ifr.ifr_name, IFNAMSIZ);
    answer[IFNAMSIZ - 1] = '\0';
    return 0;
}

int64_t cf_tungetfeatures(int fd)
{
    unsigned int features = 0;
    return ioctl(fd, TUNGETFEATURES, &features) == -1 ? cf_fail(errno) : (int64_t)features;
}

int64_t cf_tungetiff(int fd, char *answer)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, TUNGETIFF, &ifr) == -1)
        return cf_fail(errno);
    memcpy(answer, ifr.ifr_name, IFNAMSIZ);
    answer[IFNAMSIZ - 1] = '\0';
    return ifr.ifr_flags & 0xffff;
}

int64_t cf_tunsetpersist(int fd, int persist)
{
    return cf_result(ioctl(fd, TUNSETPERSIST, (unsigned long)persist));
}

int64_t cf_tunsetowner(int fd, uid_t owner)
{
    return cf_result(ioctl(fd, TUNSETOWNER, (unsigned long)owner));
}

int64_t cf_tunsetgroup(int fd, gid_t group)
{
    return cf_result(ioctl(fd, TUNSETGROUP, (unsigned long)group));
}
