/* TUN/TAP devices (src/cfcntl/ioctls/tun.py): TUNSETIFF and TUNGETIFF here (a struct
   ifreq), the features as a row of tun.py, persistence, owner and group by value.

   <linux/if_tun.h> defines the TUNSETIFF flags (IFF_TUN, IFF_TAP, IFF_NO_PI...) and
   includes neither <linux/if.h> nor <net/if.h>: struct ifreq is glibc's, from net.h (see
   there why not the kernel's). */
#ifndef CFCNTL_TUN_H
#define CFCNTL_TUN_H

#include "cfcntl.h"

#include "net.h"
#include <linux/if_tun.h>

/* cdef-only:
typedef int... uid_t;
typedef int... gid_t;
#define IFF_TUN ...
#define IFF_TAP ...
#define IFF_NO_PI ...
#define IFF_ONE_QUEUE ...
#define IFF_VNET_HDR ...
#define IFF_TUN_EXCL ...
#define IFF_MULTI_QUEUE ...
#define IFF_ATTACH_QUEUE ...
#define IFF_DETACH_QUEUE ...
#define IFF_PERSIST ...
#define IFF_NOFILTER ...
*/

/* cdef: begin */
/* TUNSETIFF: attach the descriptor of /dev/net/tun to the device `name` ("" or a
   pattern with %d: the kernel picks), created if need be, with the IFF_* `flags`; the
   device's name into `answer` (IFNAMSIZ bytes). */
int64_t cf_tunsetiff(int fd, const char *name, int flags, char *answer);
/* TUNGETFEATURES: the IFF_* flags the kernel supports. */
int64_t cf_tungetfeatures(int fd);
/* TUNGETIFF: the attached device's name into `answer` (IFNAMSIZ bytes); the result is
   its flags. */
int64_t cf_tungetiff(int fd, char *answer);
/* TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP: the kernel takes the number itself, not a
   pointer to it (their _IOW says int, which it is not). */
int64_t cf_tunsetpersist(int fd, int persist);
int64_t cf_tunsetowner(int fd, uid_t owner);
int64_t cf_tunsetgroup(int fd, gid_t group);
/* cdef: end */

#endif
