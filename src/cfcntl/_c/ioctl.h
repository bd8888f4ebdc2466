/* ioctl(2): the generic calls (src/cfcntl/ioctls/generic.py) and the headers of the
   request registry (src/cfcntl/ioctls/registry.py, src/cfcntl/_requests.py). */
#ifndef CFCNTL_IOCTL_H
#define CFCNTL_IOCTL_H

#include "cfcntl.h"

#include <asm/ioctl.h>
#include <linux/sockios.h>
/* The types the kernel reads and writes for legacy requests (src/cfcntl/_requests.py). */
#include <sys/time.h>
#include <asm/termbits.h>
#include <linux/serial.h>
#include <net/if.h>
#include <net/if_arp.h>

/* cdef: begin */
/* The argument by pointer, by value (the kernel's unsigned long), or none (a zero). */
int64_t cf_ioctl_ptr(int fd, unsigned int request, void *arg);
int64_t cf_ioctl_value(int fd, unsigned int request, unsigned long value);
int64_t cf_ioctl_none(int fd, unsigned int request);
/* cdef: end */

#endif
