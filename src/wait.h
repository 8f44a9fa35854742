#ifndef NETSOCKET_WAIT_H
#define NETSOCKET_WAIT_H
/* Waiting for readiness. Today: poll() bounded by the deadline. The cosocket
 * scheduler hooks in here, so that "would block" yields instead. */
#include "timeout.h"

enum { WAIT_R = 1, WAIT_W = 2 };

/* IO_DONE when ready, IO_TIMEOUT, IO_CLOSED for fd < 0, or an errno. */
int wait_fd(int fd, int what, const timeout *tm);
/* Waits `seconds` (< 0: forever) for readiness, no timeout object. */
int wait_fd_for(int fd, int what, double seconds);
/* For "would block" with no readiness event to wait for (a full unix
 * backlog, a full unconnected datagram peer): sleeps *nap (doubling it up
 * to 50 ms) within the deadline. IO_TIMEOUT once no time is left. */
int wait_backoff(const timeout *tm, double *nap);
/* Sleeps for `seconds` (restarting after signals). */
void wait_sleep(double seconds);

#endif
