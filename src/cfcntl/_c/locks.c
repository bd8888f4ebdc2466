#include "locks.h"

static int64_t cf_setlk(int fd, int cmd, short type, off_t start, off_t len, short whence)
{
    struct flock fl;
    return cf_result(cf_flock_cmd(fd, cmd, &fl, type, start, len, whence));
}

int64_t cf_posix_setlk(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_setlk(fd, F_SETLK, type, start, len, whence);
}

int64_t cf_posix_setlkw(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_setlk(fd, F_SETLKW, type, start, len, whence);
}

int64_t cf_ofd_setlk(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_setlk(fd, CF_OFD_SETLK, type, start, len, whence);
}

int64_t cf_ofd_setlkw(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_setlk(fd, CF_OFD_SETLKW, type, start, len, whence);
}

/* A conflicting lock as the five int64_t Python unpacks: type, whence, start, len, pid.
   Five int64_t make one ffi.unpack instead of five attribute reads of a struct flock:
   getlk-conflict 760 ns against 800 (see _ANSWERS in src/cfcntl/locks.py). */
static void cf_store_conflict(int64_t *found, const struct flock *fl)
{
    found[0] = fl->l_type;
    found[1] = fl->l_whence;
    found[2] = fl->l_start;
    found[3] = fl->l_len;
    found[4] = fl->l_pid;
}

/* `found` is the caller's (Python's, one buffer per call in progress), so that nothing
   another call does, in a signal handler or another thread, can change the answer
   before Python reads it. */
static int64_t cf_query(int fd, int cmd, short type, off_t start, off_t len, short whence,
                        int64_t *found)
{
    struct flock fl;
    if (cf_flock_cmd(fd, cmd, &fl, type, start, len, whence) < 0)
        return cf_fail(errno);
    if (fl.l_type == F_UNLCK)
        return 0;
    cf_store_conflict(found, &fl);
    return 1;
}

int64_t cf_posix_getlk(int fd, short type, off_t start, off_t len, short whence,
                       int64_t *found)
{
    return cf_query(fd, F_GETLK, type, start, len, whence, found);
}

int64_t cf_ofd_getlk(int fd, short type, off_t start, off_t len, short whence, int64_t *found)
{
    return cf_query(fd, CF_OFD_GETLK, type, start, len, whence, found);
}

/* Claimed atomically, so a signal handler's or another thread's query claims another. */
int64_t cf_answers[CF_SLOTS][5];
static int cf_answer_busy[CF_SLOTS];

static int64_t cf_query_slot(int fd, int cmd, short type, off_t start, off_t len,
                             short whence)
{
    struct flock fl;
    if (cf_flock_cmd(fd, cmd, &fl, type, start, len, whence) < 0)
        return cf_fail(errno);
    if (fl.l_type == F_UNLCK)
        return 0;
    for (int k = 0; k < CF_SLOTS; k++) {
        int free_slot = 0;
        if (__atomic_compare_exchange_n(&cf_answer_busy[k], &free_slot, 1, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            cf_store_conflict(cf_answers[k], &fl);
            return k + 1;
        }
    }
    return CF_SLOTS + 1;
}

void cf_answer_free(int64_t found)
{
    __atomic_store_n(&cf_answer_busy[found - 1], 0, __ATOMIC_RELEASE);
}

int64_t cf_posix_getlk_slot(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_query_slot(fd, F_GETLK, type, start, len, whence);
}

int64_t cf_ofd_getlk_slot(int fd, short type, off_t start, off_t len, short whence)
{
    return cf_query_slot(fd, CF_OFD_GETLK, type, start, len, whence);
}
