#include "net.h"

/* An ifreq for the interface `name`, zeroed first; Python has checked that the name
   fits with its NUL. */
static void cf_ifreq(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

#define CF_IFREQ_GET(helper, request, field)                                             \
    int64_t helper(int fd, const char *name)                                             \
    {                                                                                    \
        struct ifreq ifr;                                                                \
        cf_ifreq(&ifr, name);                                                            \
        if (ioctl(fd, request, &ifr) == -1)                                              \
            return cf_fail(errno);                                                       \
        return ifr.field;                                                                \
    }

#define CF_IFREQ_SET(helper, request, field)                                             \
    int64_t helper(int fd, const char *name, int value)                                  \
    {                                                                                    \
        struct ifreq ifr;                                                                \
        cf_ifreq(&ifr, name);                                                            \
        ifr.field = value;                                                               \
        return cf_result(ioctl(fd, request, &ifr));                                      \
    }

CF_IFREQ_GET(cf_siocgifindex, SIOCGIFINDEX, ifr_ifindex)
/* ifr_flags is a short: the low 16 IFF_* bits (the higher ones, IFF_LOWER_UP..., are
   netlink's). */
CF_IFREQ_GET(cf_siocgifflags, SIOCGIFFLAGS, ifr_flags & 0xffff)
CF_IFREQ_GET(cf_siocgifmtu, SIOCGIFMTU, ifr_mtu)
CF_IFREQ_GET(cf_siocgiftxqlen, SIOCGIFTXQLEN, ifr_qlen)
CF_IFREQ_SET(cf_siocsifflags, SIOCSIFFLAGS, ifr_flags)
CF_IFREQ_SET(cf_siocsifmtu, SIOCSIFMTU, ifr_mtu)
CF_IFREQ_SET(cf_siocsiftxqlen, SIOCSIFTXQLEN, ifr_qlen)

int64_t cf_siocgifname(int fd, int index, char *answer)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = index;
    if (ioctl(fd, SIOCGIFNAME, &ifr) == -1)
        return cf_fail(errno);
    memcpy(answer, ifr.ifr_name, IFNAMSIZ);
    answer[IFNAMSIZ - 1] = '\0';
    return 0;
}

/* The 4 bytes of an AF_INET sockaddr, or EAFNOSUPPORT. */
static int64_t cf_inet_bytes(const struct sockaddr *sa, uint8_t *answer)
{
    struct sockaddr_in sin;
    if (sa->sa_family != AF_INET)
        return cf_fail(EAFNOSUPPORT);
    memcpy(&sin, sa, sizeof sin);
    memcpy(answer, &sin.sin_addr, 4);
    return 0;
}

#define CF_IFREQ_ADDR(getter, setter, get, set, field)                                   \
    int64_t getter(int fd, const char *name, uint8_t *answer)                            \
    {                                                                                    \
        struct ifreq ifr;                                                                \
        cf_ifreq(&ifr, name);                                                            \
        ifr.field.sa_family = AF_INET;                                                   \
        if (ioctl(fd, get, &ifr) == -1)                                                  \
            return cf_fail(errno);                                                       \
        return cf_inet_bytes(&ifr.field, answer);                                        \
    }                                                                                    \
    int64_t setter(int fd, const char *name, const uint8_t *address)                     \
    {                                                                                    \
        struct ifreq ifr;                                                                \
        struct sockaddr_in sin;                                                          \
        cf_ifreq(&ifr, name);                                                            \
        memset(&sin, 0, sizeof sin);                                                     \
        sin.sin_family = AF_INET;                                                        \
        memcpy(&sin.sin_addr, address, 4);                                               \
        memcpy(&ifr.field, &sin, sizeof sin);                                            \
        return cf_result(ioctl(fd, set, &ifr));                                          \
    }

CF_IFREQ_ADDR(cf_siocgifaddr, cf_siocsifaddr, SIOCGIFADDR, SIOCSIFADDR, ifr_addr)
CF_IFREQ_ADDR(cf_siocgifnetmask, cf_siocsifnetmask, SIOCGIFNETMASK, SIOCSIFNETMASK,
              ifr_netmask)
CF_IFREQ_ADDR(cf_siocgifbrdaddr, cf_siocsifbrdaddr, SIOCGIFBRDADDR, SIOCSIFBRDADDR,
              ifr_broadaddr)

int64_t cf_siocgifhwaddr(int fd, const char *name, uint8_t *answer, size_t size)
{
    struct ifreq ifr;
    cf_ifreq(&ifr, name);
    if (size > sizeof ifr.ifr_hwaddr.sa_data)
        return cf_fail(EINVAL);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1)
        return cf_fail(errno);
    memcpy(answer, ifr.ifr_hwaddr.sa_data, size);
    return ifr.ifr_hwaddr.sa_family;
}

int64_t cf_siocsifhwaddr(int fd, const char *name, int family, const uint8_t *address,
                         size_t size)
{
    struct ifreq ifr;
    cf_ifreq(&ifr, name);
    if (size > sizeof ifr.ifr_hwaddr.sa_data)
        return cf_fail(EINVAL);
    ifr.ifr_hwaddr.sa_family = (sa_family_t)family;
    memcpy(ifr.ifr_hwaddr.sa_data, address, size);
    return cf_result(ioctl(fd, SIOCSIFHWADDR, &ifr));
}

int64_t cf_siocgifconf(int fd, struct ifreq *entries, int count)
{
    struct ifconf ifc;
    memset(&ifc, 0, sizeof ifc);
    ifc.ifc_len = count * (int)sizeof *entries;
    ifc.ifc_req = entries;
    if (ioctl(fd, SIOCGIFCONF, &ifc) == -1)
        return cf_fail(errno);
    return ifc.ifc_len / (int)sizeof *entries;
}

int64_t cf_ifconf_entry(const struct ifreq *entries, int index, char *name,
                        uint8_t *address)
{
    const struct ifreq *entry = &entries[index];
    memcpy(name, entry->ifr_name, IFNAMSIZ);
    name[IFNAMSIZ - 1] = '\0';
    cf_inet_bytes(&entry->ifr_addr, address);
    return entry->ifr_addr.sa_family;
}

int64_t cf_siocgstamp(int fd, int64_t *answer)
{
    struct timeval tv;
    if (ioctl(fd, SIOCGSTAMP, &tv) == -1)
        return cf_fail(errno);
    answer[0] = tv.tv_sec;
    answer[1] = tv.tv_usec;
    return 0;
}

int64_t cf_siocgstampns(int fd, int64_t *answer)
{
    struct timespec ts;
    if (ioctl(fd, SIOCGSTAMPNS, &ts) == -1)
        return cf_fail(errno);
    answer[0] = ts.tv_sec;
    answer[1] = ts.tv_nsec;
    return 0;
}
