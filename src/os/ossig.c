/* Signals as readable descriptors, POSIX side (the seam: src/os/ossig.h).
 *
 * Each watcher has a non-blocking self-pipe. A sigaction handler, which may
 * run in any thread, writes one byte (the signal's index) to the pipe of
 * every watcher of that signal; a full pipe drops the byte (an arrival is
 * already pending there). A pipe and sigaction rather than signalfd: with
 * signalfd the signal must be blocked in every thread, and the resolver's
 * worker threads (src/resolve.c) would take it with its default action.
 *
 * The table of watchers is process-wide. The handler reads it without a
 * lock: a slot's write end and mask are atomics, and a slot counts the
 * handlers inside it (busy), so ossig_close clears the slot, waits for
 * busy to reach 0 (a handler is a few instructions), and only then closes
 * the descriptors: no handler ever writes to a closed (or reused) fd. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include "ossig.h"

static const struct { const char *name; int sig; } ossig_table[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"TERM", SIGTERM},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
    {"CHLD", SIGCHLD}, {"WINCH", SIGWINCH}, {"CONT", SIGCONT}, {"TSTP", SIGTSTP},
};
#define OSSIG_N ((int) (sizeof ossig_table / sizeof ossig_table[0]))

typedef struct ossig_slot {
    atomic_int wfd;           /* -1: free */
    atomic_uint mask;         /* indices watched */
    atomic_int busy;          /* handlers running on this slot */
} ossig_slot;

static ossig_slot ossig_slots[OSSIG_MAX];
static int ossig_ready;                          /* slots set to -1 (under the lock) */
static pthread_mutex_t ossig_lock = PTHREAD_MUTEX_INITIALIZER;
/* Per signal index, under the lock: watchers, and what to restore. */
static int ossig_users[OSSIG_N];
static struct sigaction ossig_saved[OSSIG_N];
static int ossig_wasblocked[OSSIG_N];

int ossig_lookup(const char *name) {
    if (strncmp(name, "SIG", 3) == 0) name += 3;
    for (int i = 0; i < OSSIG_N; i++)
        if (strcmp(name, ossig_table[i].name) == 0) return i;
    return -1;
}

const char *ossig_name(int i) {
    return i >= 0 && i < OSSIG_N ? ossig_table[i].name : "?";
}

static void ossig_handler(int sig) {
    int saved = errno;
    int idx = -1;
    for (int i = 0; i < OSSIG_N; i++)
        if (ossig_table[i].sig == sig) { idx = i; break; }
    if (idx >= 0) {
        unsigned bit = 1u << idx;
        unsigned char b = (unsigned char) idx;
        for (int i = 0; i < OSSIG_MAX; i++) {
            ossig_slot *s = &ossig_slots[i];
            atomic_fetch_add(&s->busy, 1);
            int fd = atomic_load(&s->wfd);
            if (fd >= 0 && (atomic_load(&s->mask) & bit)) {
                while (write(fd, &b, 1) < 0 && errno == EINTR) {}
            }
            atomic_fetch_sub(&s->busy, 1);
        }
    }
    errno = saved;
}

static int ossig_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return errno;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return errno;
    return 0;
}

/* First watcher of signal i: our handler in, the signal unblocked here. */
static int ossig_install(int i) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ossig_handler;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);                     /* one handler at a time per thread */
    if (sigaction(ossig_table[i].sig, &sa, &ossig_saved[i]) != 0) return errno;
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, ossig_table[i].sig);
    ossig_wasblocked[i] = 0;
    if (pthread_sigmask(SIG_UNBLOCK, &one, &old) == 0)
        ossig_wasblocked[i] = sigismember(&old, ossig_table[i].sig) == 1;
    return 0;
}

/* Last watcher of signal i gone: the old handling back. */
static void ossig_restore(int i) {
    sigaction(ossig_table[i].sig, &ossig_saved[i], NULL);
    if (ossig_wasblocked[i]) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, ossig_table[i].sig);
        pthread_sigmask(SIG_BLOCK, &one, NULL);
    }
}

/* Drops one watcher of each signal of mask (under the lock). */
static void ossig_release(unsigned mask) {
    for (int i = 0; i < OSSIG_N; i++)
        if ((mask & (1u << i)) && --ossig_users[i] == 0) ossig_restore(i);
}

int ossig_open(unsigned mask, int *rfd, int *slot) {
    int p[2], err = 0;
    *rfd = -1;
    *slot = -1;
    if (pipe(p) != 0) return errno;
    if ((err = ossig_nonblock(p[0])) != 0 || (err = ossig_nonblock(p[1])) != 0) {
        close(p[0]);
        close(p[1]);
        return err;
    }
    pthread_mutex_lock(&ossig_lock);
    if (!ossig_ready) {
        for (int i = 0; i < OSSIG_MAX; i++) atomic_store(&ossig_slots[i].wfd, -1);
        ossig_ready = 1;
    }
    int s = -1;
    for (int i = 0; i < OSSIG_MAX && s < 0; i++)
        if (atomic_load(&ossig_slots[i].wfd) < 0) s = i;
    unsigned done = 0;
    if (s < 0) err = OSSIG_FULL;
    for (int i = 0; i < OSSIG_N && err == 0; i++) {
        if (!(mask & (1u << i))) continue;
        if (ossig_users[i] == 0 && (err = ossig_install(i)) != 0) break;
        ossig_users[i]++;
        done |= 1u << i;
    }
    if (err != 0) {
        ossig_release(done);
        pthread_mutex_unlock(&ossig_lock);
        close(p[0]);
        close(p[1]);
        return err;
    }
    atomic_store(&ossig_slots[s].mask, mask);
    atomic_store(&ossig_slots[s].wfd, p[1]);
    pthread_mutex_unlock(&ossig_lock);
    *rfd = p[0];
    *slot = s;
    return 0;
}

int ossig_take(int rfd) {
    unsigned char b;
    for (;;) {
        ssize_t n = read(rfd, &b, 1);
        if (n == 1) return b < OSSIG_N ? (int) b : -1;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
        return -2 - (n < 0 ? errno : EPIPE);
    }
}

void ossig_close(int slot, int *rfd) {
    if (slot >= 0 && slot < OSSIG_MAX) {
        ossig_slot *s = &ossig_slots[slot];
        pthread_mutex_lock(&ossig_lock);
        int wfd = atomic_exchange(&s->wfd, -1);
        unsigned mask = atomic_exchange(&s->mask, 0u);
        while (atomic_load(&s->busy) != 0) {}    /* a handler inside the slot finishes */
        ossig_release(mask);
        pthread_mutex_unlock(&ossig_lock);
        if (wfd >= 0) close(wfd);
    }
    if (*rfd >= 0) close(*rfd);
    *rfd = -1;
}
