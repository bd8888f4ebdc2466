#include "lockwait.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Does nothing: installed without SA_RESTART, its signal makes F_SETLKW return EINTR. */
static void cf_lock_wake(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    (void)context;
}

static pthread_mutex_t cf_lock_mutex = PTHREAD_MUTEX_INITIALIZER;
static int cf_lock_signo;

/* fork() while another thread holds cf_lock_mutex would leave the child a mutex that no
   thread of it will unlock, and its first timed wait would hang: fork takes the mutex
   first (prepare) and both sides let it go. */
static void cf_lock_take(void) { pthread_mutex_lock(&cf_lock_mutex); }
static void cf_lock_give(void) { pthread_mutex_unlock(&cf_lock_mutex); }
static void cf_lock_at_fork(void) { pthread_atfork(cf_lock_take, cf_lock_give, cf_lock_give); }
static pthread_once_t cf_lock_once = PTHREAD_ONCE_INIT;

static int cf_lock_is_ours(int sig)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO)
           && cur.sa_sigaction == cf_lock_wake;
}

/* The real-time signal that carries cf_lock_wake: the one taken before while it is still
   ours, else the highest one nobody handles (SIG_DFL), taken now; 0 when none is free. */
static int cf_lock_signal(void)
{
    int sig;
    pthread_once(&cf_lock_once, cf_lock_at_fork);
    pthread_mutex_lock(&cf_lock_mutex);
    sig = cf_lock_signo;
    if (sig == 0 || !cf_lock_is_ours(sig)) {
        sig = 0;
        for (int s = SIGRTMAX; s >= SIGRTMIN && sig == 0; s--) {
            struct sigaction cur, mine;
            if (sigaction(s, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO)
                || cur.sa_handler != SIG_DFL)
                continue;
            memset(&mine, 0, sizeof mine);
            mine.sa_sigaction = cf_lock_wake;
            mine.sa_flags = SA_SIGINFO;
            sigemptyset(&mine.sa_mask);
            if (sigaction(s, &mine, NULL) == 0)
                sig = s;
        }
        cf_lock_signo = sig;
    }
    pthread_mutex_unlock(&cf_lock_mutex);
    return sig;
}

static struct timespec cf_lock_timespec(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

/* No signal to spare: retry F_SETLK, sleeping 1 ms, doubling up to 20 ms. */
static int cf_lock_poll(int fd, int try_cmd, struct flock *fl, int64_t deadline,
                        struct cf_wait *wait)
{
    int64_t pause = 1000000;
    for (;;) {
        if (fcntl(fd, try_cmd, fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES)
            return -1;
        if (wait != NULL && __atomic_load_n(&wait->cancelled, __ATOMIC_ACQUIRE)) {
            errno = ECANCELED;
            return -1;
        }
        int64_t left = deadline - cf_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct timespec ts = cf_lock_timespec(pause < left ? pause : left);
        if (nanosleep(&ts, NULL) != 0)
            return -1;
        if (pause < 20000000)
            pause *= 2;
    }
}

/* A timer of this thread (SIGEV_THREAD_ID) sends cf_lock_signal() at the deadline and
   every millisecond after, so a signal that lands just before the wait starts is
   followed by one that ends it.  Any other signal returns EINTR, for Python to run its
   handler and call again.  With a cf_wait, the timer is published under its mutex while
   it lives, so that cf_wait_cancel can fire it now (and every millisecond after). */
static int cf_lock_wait(int fd, int try_cmd, int wait_cmd, struct flock *fl, int64_t deadline,
                        struct cf_wait *wait)
{
    int sig = cf_lock_signal();
    if (sig == 0)
        return cf_lock_poll(fd, try_cmd, fl, deadline, wait);

    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = sig;
    event.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
    int timer;
    if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer) != 0) {
        /* EINVAL: the signal cannot carry a timer here (qemu-user keeps the guest's
           SIGRTMAX and SIGRTMAX-1 for itself); the kernel never says so natively. */
        if (errno == EINVAL)
            return cf_lock_poll(fd, try_cmd, fl, deadline, wait);
        return -1;
    }
    struct itimerspec when = {cf_lock_timespec(1000000), cf_lock_timespec(deadline)};
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, sig);
    pthread_sigmask(SIG_UNBLOCK, &mask, &old);
    int result = -1;
    int cancelled = 0;
    if (wait != NULL) {
        pthread_mutex_lock(&wait->mutex);
        wait->timer = timer;
        wait->live = 1;
        cancelled = wait->cancelled;
        pthread_mutex_unlock(&wait->mutex);
    }
    if (cancelled)
        errno = ECANCELED;
    else if (syscall(SYS_timer_settime, timer, TIMER_ABSTIME, &when, NULL) == 0) {
        if (cf_now() >= deadline)
            errno = ETIMEDOUT;
        else if ((result = fcntl(fd, wait_cmd, fl)) != 0 && errno == EINTR) {
            if (wait != NULL && __atomic_load_n(&wait->cancelled, __ATOMIC_ACQUIRE))
                errno = ECANCELED;
            else if (cf_now() >= deadline)
                errno = ETIMEDOUT;
        }
    }
    int saved = errno;
    if (wait != NULL) {
        pthread_mutex_lock(&wait->mutex);
        wait->live = 0;
        pthread_mutex_unlock(&wait->mutex);
    }
    syscall(SYS_timer_delete, timer);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return result;
}

int64_t cf_lock_until(int fd, int try_cmd, int wait_cmd, short type, off_t start, off_t len,
                      short whence, int64_t deadline)
{
    struct flock fl;
    cf_fill_flock(&fl, type, start, len, whence);
    return cf_result(cf_lock_wait(fd, try_cmd, wait_cmd, &fl, deadline, NULL));
}

int64_t cf_lock_until_cancellable(int fd, int try_cmd, int wait_cmd, short type,
                                  off_t start, off_t len, short whence, int64_t deadline,
                                  struct cf_wait *wait)
{
    struct flock fl;
    cf_fill_flock(&fl, type, start, len, whence);
    return cf_result(cf_lock_wait(fd, try_cmd, wait_cmd, &fl, deadline, wait));
}

void cf_wait_init(struct cf_wait *wait)
{
    memset(wait, 0, sizeof *wait);
    pthread_mutex_init(&wait->mutex, NULL);
}

/* The waiting thread's timer fires now and every millisecond after, until its wait sees
   the flag (a tick that lands before the wait's fcntl starts is followed by another);
   a wait not yet begun sees the flag when it publishes its timer. */
void cf_wait_cancel(struct cf_wait *wait)
{
    pthread_mutex_lock(&wait->mutex);
    __atomic_store_n(&wait->cancelled, 1, __ATOMIC_RELEASE);
    if (wait->live) {
        struct itimerspec now = {cf_lock_timespec(1000000), cf_lock_timespec(1)};
        syscall(SYS_timer_settime, wait->timer, 0, &now, NULL);
    }
    pthread_mutex_unlock(&wait->mutex);
}

/* The fork generation: 1, one more in each child (fork() runs the handler there, so the
   count goes up along every line of descent and a token from an ancestor never matches).
   Written only in a new child, while it has one thread. */
static int64_t cf_generation = 1;

static void cf_generation_bump(void) { cf_generation++; }

__attribute__((constructor)) static void cf_generation_watch(void)
{
    pthread_atfork(NULL, NULL, cf_generation_bump);
}

int64_t cf_lock_generation(void) { return cf_generation; }

int64_t cf_lock_hold(struct cf_lockspec *spec)
{
    if (!spec->usable)
        return cf_fail(EINVAL);
    int fd = spec->fd;
    if (spec->path != NULL && (fd = open(spec->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
        return cf_fail(errno);
    struct flock fl;
    if (cf_flock_cmd(fd, spec->cmd, &fl, spec->type, spec->start, spec->len, SEEK_SET) != 0) {
        int err = errno;
        if (spec->path != NULL)
            close(fd);
        return cf_fail(err);
    }
    spec->token = (cf_generation << 32) + fd;
    return fd;
}

int64_t cf_lock_drop(struct cf_lockspec *spec)
{
    int fd = (int)(spec->token & 0xffffffff);
    int64_t result = 1;
    if (spec->token >> 32 == cf_generation) {
        struct flock fl;
        result = cf_result(
            cf_flock_cmd(fd, spec->unlock_cmd, &fl, F_UNLCK, spec->start, spec->len, SEEK_SET));
    }
    if (spec->path != NULL && close(fd) != 0 && result >= 0)
        result = cf_fail(errno);
    spec->token = 0;
    return result;
}
