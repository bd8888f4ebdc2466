/* Network interfaces (src/cfcntl/ioctls/net.py): the struct ifreq requests on a socket,
   the interface list (SIOCGIFCONF) and a socket's receive timestamp (SIOCGSTAMP).

   Which ifreq.  glibc's <net/if.h> and the kernel's <linux/if.h> both define struct
   ifreq, struct ifconf and the IFF_* flags, so they cannot share a translation unit;
   cffi's main unit includes every family's header and ioctl.h already takes glibc's, so
   this one does too (the layouts are the same: the kernel's ABI), and no file of
   src/cfcntl/_c/ includes <linux/if.h>.  tun.h's <linux/if_tun.h> does not include it.
   The fields are reached through glibc's macros (ifr_name, ifr_mtu...), which cffi cannot
   declare, so the struct stays opaque to Python: each helper fills it and hands back
   scalars, and the interface list is read entry by entry with cf_ifconf_entry. */
#ifndef CFCNTL_NET_H
#define CFCNTL_NET_H

#include "cfcntl.h"

#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Whether SIOCGSTAMP is the sized SIOCGSTAMP_NEW (_IOR of long long[2]: a 64-bit time_t
   on a 32-bit CPU, armhf's for one) rather than the legacy SIOCGSTAMP_OLD number.  An
   enum, not a macro: the build takes every macro made from a request for a request. */
enum { CF_STAMP_SIZED = _IOC_SIZE(SIOCGSTAMP) != 0 };

/* The bytes of a hardware address's sockaddr (sa_data). */
#define CF_SA_DATA sizeof(((struct sockaddr *)0)->sa_data)

/* cdef-only:
#define IFNAMSIZ ...
#define CF_SA_DATA ...
#define CF_STAMP_SIZED ...
#define ETH_ALEN ...
#define ARPHRD_ETHER ...
#define ARPHRD_LOOPBACK ...
#define ARPHRD_NONE ...
#define IFF_UP ...
#define IFF_BROADCAST ...
#define IFF_DEBUG ...
#define IFF_LOOPBACK ...
#define IFF_POINTOPOINT ...
#define IFF_NOTRAILERS ...
#define IFF_RUNNING ...
#define IFF_NOARP ...
#define IFF_PROMISC ...
#define IFF_ALLMULTI ...
#define IFF_MASTER ...
#define IFF_SLAVE ...
#define IFF_MULTICAST ...
#define IFF_PORTSEL ...
#define IFF_AUTOMEDIA ...
#define IFF_DYNAMIC ...
typedef int... time_t;
typedef int... suseconds_t;
struct ifreq { ...; };
struct timeval { time_t tv_sec; suseconds_t tv_usec; ...; };
struct timespec { time_t tv_sec; long tv_nsec; ...; };
*/

/* cdef: begin */
/* The int-valued requests on the interface `name` (at most IFNAMSIZ - 1 bytes, which
   Python checks): the answer's field, or the protocol's failure. */
int64_t cf_siocgifindex(int fd, const char *name);
int64_t cf_siocgifflags(int fd, const char *name);
int64_t cf_siocgifmtu(int fd, const char *name);
int64_t cf_siocgiftxqlen(int fd, const char *name);
int64_t cf_siocsifflags(int fd, const char *name, int flags);
int64_t cf_siocsifmtu(int fd, const char *name, int mtu);
int64_t cf_siocsiftxqlen(int fd, const char *name, int qlen);
/* SIOCGIFNAME: the name of the interface `index` into `answer` (IFNAMSIZ bytes). */
int64_t cf_siocgifname(int fd, int index, char *answer);
/* SIOCGIFADDR/NETMASK/BRDADDR: the IPv4 address's 4 bytes into `answer` (network
   order); EAFNOSUPPORT if the kernel answered another family. */
int64_t cf_siocgifaddr(int fd, const char *name, uint8_t *answer);
int64_t cf_siocgifnetmask(int fd, const char *name, uint8_t *answer);
int64_t cf_siocgifbrdaddr(int fd, const char *name, uint8_t *answer);
/* SIOCSIFADDR/NETMASK/BRDADDR from an IPv4 address's 4 bytes (network order). */
int64_t cf_siocsifaddr(int fd, const char *name, const uint8_t *address);
int64_t cf_siocsifnetmask(int fd, const char *name, const uint8_t *address);
int64_t cf_siocsifbrdaddr(int fd, const char *name, const uint8_t *address);
/* SIOCGIFHWADDR: sa_data into `answer` (`size` bytes, at most sizeof sa_data); the
   result is sa_family, an ARPHRD_* type. */
int64_t cf_siocgifhwaddr(int fd, const char *name, uint8_t *answer, size_t size);
/* SIOCSIFHWADDR: the type `family` (ARPHRD_*) and `size` bytes of address. */
int64_t cf_siocsifhwaddr(int fd, const char *name, int family, const uint8_t *address,
                         size_t size);
/* SIOCGIFCONF into `count` struct ifreq: how many entries the kernel filled. */
int64_t cf_siocgifconf(int fd, struct ifreq *entries, int count);
/* Entry `index` of SIOCGIFCONF's answer: its name into `name` (IFNAMSIZ bytes), its
   IPv4 address into `address` (4 bytes); the result is the address's family. */
int64_t cf_ifconf_entry(const struct ifreq *entries, int index, char *name,
                        uint8_t *address);
/* SIOCGSTAMP and SIOCGSTAMPNS: the receive time of the socket's last packet, seconds and
   micro- or nanoseconds, into answer[0] and answer[1].  The build's struct timeval and
   timespec, and the SIOCGSTAMP macro that <linux/sockios.h> picks for their time_t
   (SIOCGSTAMP_OLD, or SIOCGSTAMP_NEW for a 64-bit time_t on a 32-bit CPU). */
int64_t cf_siocgstamp(int fd, int64_t *answer);
int64_t cf_siocgstampns(int fd, int64_t *answer);
/* cdef: end */

#endif
