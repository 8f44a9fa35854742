/* "Would block": poll() the fd until ready or until the deadline. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <time.h>
#include "io.h"
#include "wait.h"

/* Rounds up so that a wait never ends before its deadline. */
static int wait_ms(double seconds) {
    if (seconds < 0) return -1;
    double ms = ceil(seconds * 1000.0);
    return ms > 2147483647.0 ? 2147483647 : (int) ms;
}

/* Waits until fd is ready. The limit comes from tm when given (re-read
 * after every wake-up, so EINTR never stretches it), else from `seconds`. */
static int wait_poll(int fd, int what, double seconds, const timeout *tm) {
    if (fd < 0) return IO_CLOSED;
    struct pollfd p;
    p.fd = fd;
    p.events = (short) (((what & WAIT_R) ? POLLIN : 0) | ((what & WAIT_W) ? POLLOUT : 0));
    double deadline = seconds > 0 ? timeout_monotonic() + seconds : 0;
    for (;;) {
        double left = tm ? timeout_left(tm)
                    : seconds > 0 ? fmax(0, deadline - timeout_monotonic()) : seconds;
        int ret = poll(&p, 1, wait_ms(left));
        if (ret > 0) return IO_DONE;      /* errors and hangups surface in the next syscall */
        if (ret == 0) return IO_TIMEOUT;  /* this wait's limit ran out (b bounds each wait) */
        if (errno != EINTR) return errno;
    }
}

int wait_fd(int fd, int what, const timeout *tm) {
    return wait_poll(fd, what, 0, tm);
}

int wait_fd_for(int fd, int what, double seconds) {
    return wait_poll(fd, what, seconds, NULL);
}

int wait_backoff(const timeout *tm, double *nap) {
    double left = timeout_left(tm);
    if (left == 0) return IO_TIMEOUT;
    wait_sleep(left > 0 && left < *nap ? left : *nap);
    if (*nap < 0.05) *nap *= 2;
    return IO_DONE;
}

void wait_sleep(double seconds) {
    if (!(seconds > 0)) return;                  /* negative, zero, NaN */
    if (seconds > 1e9) seconds = 1e9;            /* keeps tv_sec in range */
    struct timespec t, r;
    t.tv_sec = (time_t) seconds;
    t.tv_nsec = (long) ((seconds - (double) t.tv_sec) * 1e9);
    if (t.tv_nsec > 999999999L) t.tv_nsec = 999999999L;
    while (nanosleep(&t, &r) != 0 && errno == EINTR) t = r;
}
