#include "ioctl.h"

int64_t cf_ioctl_ptr(int fd, unsigned int request, void *arg)
{
    return cf_result(ioctl(fd, request, arg));
}

int64_t cf_ioctl_value(int fd, unsigned int request, unsigned long value)
{
    return cf_result(ioctl(fd, request, value));
}

int64_t cf_ioctl_none(int fd, unsigned int request)
{
    return cf_result(ioctl(fd, request, (unsigned long)0));
}
