#ifndef NETSOCKET_TIMEOUT_H
#define NETSOCKET_TIMEOUT_H
/* Block and total deadlines (API.md §3), on the monotonic clock: the
 * arithmetic only. What a call in flight keeps lives in call.h. */
#include "compat.h"

typedef struct timeout {
    double block;      /* < 0: no limit */
    double total;      /* < 0: no limit */
} timeout;

void timeout_init(timeout *tm, double block, double total);
/* Seconds a wait may last in a call that began at `start` (monotonic) under
 * limits b and t (< 0: none): < 0 means no limit, 0 means do not wait. */
double timeout_left(double block, double total, double start);
double timeout_monotonic(void);
double timeout_walltime(void);

/* settimeout(v [, mode]) / gettimeout() on a timeout at stack index 1. */
int timeout_meth_settimeout(lua_State *L, timeout *tm);
int timeout_meth_gettimeout(lua_State *L, timeout *tm);

#endif
