#ifndef NETSOCKET_OSSIG_H
#define NETSOCKET_OSSIG_H
/* Signals as readable descriptors (socket.signal, doc/socket.md): the OS
 * side. POSIX (src/os/ossig.c): a self-pipe per watcher, written by a
 * sigaction handler. Windows (src/os/win/wsig.c): a loopback socket pair
 * per watcher, written by a console control handler. Either way the
 * watcher's read end becomes readable when a watched signal arrives, and
 * each byte read names one arrival.
 *
 * The handler must find the watchers from any thread at any moment, so the
 * watchers live in a fixed process-wide table: the one kind of C global
 * state the library has, because signal dispositions are per process. */

/* Watchers in one process at most. */
#define OSSIG_MAX 64

/* The index (>= 0) in this system's table of the signal named `name`
 * ("TERM" or "SIGTERM"), or -1 when this system cannot watch it. */
int ossig_lookup(const char *name);
/* The short name ("TERM") of the signal at index i. */
const char *ossig_name(int i);

/* What ossig_open returns when all OSSIG_MAX slots are taken (not an
 * errno: EMFILE from pipe() means the process is out of descriptors). */
#define OSSIG_FULL (-1)

/* Starts watching the signals whose indices are the set bits of `mask`:
 * on success returns 0 with *rfd the non-blocking read end and *slot the
 * watcher's place; else OSSIG_FULL (no free slot) or an errno. The first watcher
 * of a signal installs the handler (and unblocks the signal in the calling
 * thread); the last one to stop restores what was there before. */
int ossig_open(unsigned mask, int *rfd, int *slot);
/* One arrival, without waiting: its index (>= 0), -1 when none is pending
 * (would block), or -2 - errno on failure. */
int ossig_take(int rfd);
/* Stops watching: the slot is freed (no handler writes to it afterwards),
 * the signals' old handling is restored where this was the last watcher,
 * and both descriptors are closed. *rfd becomes -1. */
void ossig_close(int slot, int *rfd);

#endif
