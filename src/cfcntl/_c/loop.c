#include "loop.h"

/* With headers older than a request, a stand-in: Python raises NotImplementedError
   before calling it. */

int64_t cf_loop_ctl_get_free(int control)
{
#ifdef LOOP_CTL_GET_FREE
    return cf_result(ioctl(control, LOOP_CTL_GET_FREE, 0));
#else
    (void)control;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_loop_ctl_add(int control, int number)
{
#ifdef LOOP_CTL_ADD
    return cf_result(ioctl(control, LOOP_CTL_ADD, number));
#else
    (void)control;
    (void)number;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_loop_ctl_remove(int control, int number)
{
#ifdef LOOP_CTL_REMOVE
    return cf_result(ioctl(control, LOOP_CTL_REMOVE, number));
#else
    (void)control;
    (void)number;
    return cf_fail(ENOTTY);
#endif
}

/* The info's settable fields, everything else zero. */
static void cf_fill_loop_info(struct loop_info64 *info, uint64_t offset, uint64_t sizelimit,
                              uint32_t flags, const char *name)
{
    memset(info, 0, sizeof *info);
    info->lo_offset = offset;
    info->lo_sizelimit = sizelimit;
    info->lo_flags = flags;
    strncpy((char *)info->lo_file_name, name, sizeof info->lo_file_name - 1);
}

int64_t cf_loop_configure(int fd, int backing, uint64_t offset, uint64_t sizelimit,
                          uint32_t flags, uint32_t block_size, const char *name)
{
#ifdef LOOP_CONFIGURE
    struct loop_config config;
    if (backing < 0)
        return cf_fail(EBADF);
    memset(&config, 0, sizeof config);
    config.fd = (uint32_t)backing;
    config.block_size = block_size;
    cf_fill_loop_info(&config.info, offset, sizelimit, flags, name);
    return cf_result(ioctl(fd, LOOP_CONFIGURE, &config));
#else
    (void)fd;
    (void)backing;
    (void)offset;
    (void)sizelimit;
    (void)flags;
    (void)block_size;
    (void)name;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_loop_set_fd(int fd, int backing)
{
    return cf_result(ioctl(fd, LOOP_SET_FD, backing));
}

int64_t cf_loop_get_status64(int fd, struct loop_info64 *answer)
{
    return cf_result(ioctl(fd, LOOP_GET_STATUS64, answer));
}

int64_t cf_loop_set_status64(int fd, uint64_t offset, uint64_t sizelimit, uint32_t flags,
                             const char *name)
{
    struct loop_info64 info;
    cf_fill_loop_info(&info, offset, sizelimit, flags, name);
    return cf_result(ioctl(fd, LOOP_SET_STATUS64, &info));
}

int64_t cf_loop_set_block_size(int fd, unsigned long size)
{
#ifdef LOOP_SET_BLOCK_SIZE
    return cf_result(ioctl(fd, LOOP_SET_BLOCK_SIZE, size));
#else
    (void)fd;
    (void)size;
    return cf_fail(ENOTTY);
#endif
}

int64_t cf_loop_set_direct_io(int fd, unsigned long on)
{
#ifdef LOOP_SET_DIRECT_IO
    return cf_result(ioctl(fd, LOOP_SET_DIRECT_IO, on));
#else
    (void)fd;
    (void)on;
    return cf_fail(ENOTTY);
#endif
}
