/* The fcntl commands other than record locks (src/cfcntl/commands.py). */
#ifndef CFCNTL_COMMANDS_H
#define CFCNTL_COMMANDS_H

#include "cfcntl.h"

/* glibc declares f_owner_ex.type as an enum, musl and the kernel as int: let the
   compiler say which integer type it is. */
typedef __typeof__(((struct f_owner_ex *)0)->type) cf_owner_type;

/* cdef-only:
typedef int... cf_owner_type;
struct f_owner_ex { cf_owner_type type; pid_t pid; ...; };
*/

/* cdef: begin */
/* Every command whose argument is an int (or none). */
int64_t cf_fcntl(int fd, int cmd, int arg);
/* F_NOTIFY, whose mask the kernel reads as unsigned int (DN_MULTISHOT is bit 31). */
int64_t cf_fcntl_unsigned(int fd, int cmd, unsigned int arg);
/* F_GETFL with the descriptor as the only argument. */
int64_t cf_getfl(int fd);
/* F_GETOWN_EX into the caller's struct; F_SETOWN_EX from scalars. */
int64_t cf_get_owner(int fd, int cmd, struct f_owner_ex *owner);
int64_t cf_set_owner(int fd, int cmd, cf_owner_type type, pid_t pid);
/* Commands that read or write a uint64_t through the pointer (the rw hints). */
int64_t cf_get_u64(int fd, int cmd, uint64_t *value);
int64_t cf_set_u64(int fd, int cmd, uint64_t value);
/* cdef: end */

#endif
