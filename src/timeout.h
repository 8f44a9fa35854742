#ifndef NETSOCKET_TIMEOUT_H
#define NETSOCKET_TIMEOUT_H
/* Block and total deadlines (API.md §3), on the monotonic clock. */
#include "lua.h"

typedef struct timeout {
    double block;   /* < 0: no limit */
    double total;   /* < 0: no limit */
    double start;   /* monotonic time the current call began */
} timeout;

void timeout_init(timeout *tm, double block, double total);
/* Marks the start of a blocking call. */
void timeout_markstart(timeout *tm);
/* Seconds the next wait may last: < 0 means no limit, 0 means do not wait. */
double timeout_left(const timeout *tm);
int timeout_iszero(const timeout *tm);
double timeout_monotonic(void);
double timeout_walltime(void);

/* settimeout(v [, mode]) / gettimeout() on a timeout at stack index 1. */
int timeout_meth_settimeout(lua_State *L, timeout *tm);
int timeout_meth_gettimeout(lua_State *L, timeout *tm);
/* socket.gettime, socket.sleep */
void timeout_open(lua_State *L);

#endif
