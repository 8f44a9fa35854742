/* loadgen: the load generator of the `concurrent` workloads and of
 * `make soak`. It starts the server under test itself (so that it knows
 * its PID, for CPU and RSS), reads the port the server prints as its
 * first stdout line, opens N connections to 127.0.0.1:PORT and has each
 * one send a 64-byte request and wait for the 64-byte echo, in a loop,
 * for a fixed time, over one level-triggered epoll set.
 *
 *   loadgen [-n CONNS] [-t SECONDS] [-r RSS_EVERY] [-m NAME] -- SERVER ARGV...
 *
 * Phases, each bounded in time: connect (at most 256 connects in flight,
 * 60 s), warm-up (until every connection has had a reply and at least
 * 0.5 s, at most 60 s), measure (SECONDS; only these replies count),
 * drain (5 s for the replies still owed), then SIGTERM to the server.
 * An error is a failed connect, a reset, an early EOF, a wrong or missing
 * echo, or the server dying. Prints
 *   RSS <seconds> <kB>      every RSS_EVERY seconds of the measure phase
 *   INFO <name> key=value ...
 *   RESULT <name> <replies> <seconds>      only when there was no error
 *   FAILED <name> ...                      otherwise (exit status 1)
 */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#define MSG 64
#define MAX_CONNECTING 256
#define PHASE_LIMIT 60.0
#define DRAIN_LIMIT 5.0

enum { C_CONNECTING, C_IDLE, C_WAITING, C_DEAD };

struct conn {
    int fd, state;
    uint32_t seq;
    unsigned got, put;              /* reply bytes read, request bytes written */
    int replied;                    /* has had a reply (warm-up) */
    char out[MSG], in[MSG];
};

struct gen {
    struct conn *c;
    long n, nconnected, ninflight, waiting;
    long answered, lost;            /* connections with a first reply / dead before it */
    long replies;                   /* counted only while measuring */
    int measuring, stopping, ep;
    long errors;
    char first[256];
    pid_t server;
    int server_gone;
};

static void lg_error(struct gen *g, long i, const char *what, int err) {
    if (g->errors++ > 0) return;
    char who[48] = "";
    if (i >= 0) snprintf(who, sizeof who, "connection %ld: ", i);
    snprintf(g->first, sizeof g->first, "%s%s%s%s", who, what, err ? ": " : "", err ? strerror(err) : "");
}

static void lg_kill(struct gen *g, long i, const char *what, int err) {
    struct conn *c = &g->c[i];
    if (c->state == C_DEAD) return;
    if (c->state == C_WAITING) g->waiting--;
    if (c->state == C_CONNECTING) g->ninflight--;
    if (!c->replied) g->lost++;
    lg_error(g, i, what, err);
    close(c->fd);
    c->state = C_DEAD;
}

static void lg_watch(struct gen *g, long i, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t) i};
    if (epoll_ctl(g->ep, EPOLL_CTL_MOD, g->c[i].fd, &ev) < 0) die("epoll_ctl");
}

/* Writes what is left of the request; EPOLLOUT only while a write is stuck. */
static void lg_flush(struct gen *g, long i) {
    struct conn *c = &g->c[i];
    while (c->put < MSG) {
        ssize_t w = send(c->fd, c->out + c->put, MSG - c->put, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { lg_watch(g, i, EPOLLIN | EPOLLOUT); return; }
            lg_kill(g, i, "send", errno);
            return;
        }
        c->put += (unsigned) w;
        if (c->put == MSG && w != MSG) lg_watch(g, i, EPOLLIN);
    }
}

static void lg_request(struct gen *g, long i) {
    struct conn *c = &g->c[i];
    c->seq++;
    memcpy(c->out, &c->seq, sizeof c->seq);         /* each echo must be this one */
    c->got = c->put = 0;
    c->state = C_WAITING;
    g->waiting++;
    lg_flush(g, i);
}

static void lg_readable(struct gen *g, long i) {
    struct conn *c = &g->c[i];
    for (;;) {
        if (c->state != C_WAITING) {
            char extra;
            ssize_t r = recv(c->fd, &extra, 1, MSG_DONTWAIT);
            if (r > 0) lg_kill(g, i, "bytes nobody asked for", 0);
            else if (r == 0) lg_kill(g, i, "server closed the connection", 0);
            else if (errno != EAGAIN && errno != EINTR) lg_kill(g, i, "recv", errno);
            return;
        }
        ssize_t r = recv(c->fd, c->in + c->got, MSG - c->got, 0);
        if (r == 0) { lg_kill(g, i, "server closed the connection", 0); return; }
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) lg_kill(g, i, "recv", errno);
            return;
        }
        c->got += (unsigned) r;
        if (c->got < MSG) continue;
        if (c->put < MSG || memcmp(c->in, c->out, MSG) != 0) {
            lg_kill(g, i, "wrong echo", 0);
            return;
        }
        c->state = C_IDLE;
        g->answered += !c->replied;
        c->replied = 1;
        g->waiting--;
        if (g->measuring) g->replies++;
        if (!g->stopping) lg_request(g, i);
        return;
    }
}

static void lg_connected(struct gen *g, long i) {
    struct conn *c = &g->c[i];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    g->ninflight--;
    if (err) {
        c->state = C_IDLE;                          /* lg_kill: not in flight any more */
        lg_kill(g, i, "connect", err);
        return;
    }
    c->state = C_IDLE;
    g->nconnected++;
    lg_watch(g, i, EPOLLIN);
}

static void lg_open(struct gen *g, long i, int port) {
    struct conn *c = &g->c[i];
    memset(c, 0, sizeof *c);
    memset(c->out, 'a' + (int) (i % 26), MSG);
    memcpy(c->out + 4, &i, sizeof i);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { c->state = C_DEAD; g->lost++; lg_error(g, i, "socket", errno); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = loopback(port);
    c->state = C_CONNECTING;
    g->ninflight++;
    if (connect(c->fd, (struct sockaddr *) &a, sizeof a) < 0 && errno != EINPROGRESS) {
        lg_kill(g, i, "connect", errno);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t) i};
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Has the server died under us? */
static void lg_checkserver(struct gen *g) {
    int st;
    if (g->server_gone || waitpid(g->server, &st, WNOHANG) != g->server) return;
    g->server_gone = 1;
    char why[64];
    if (WIFEXITED(st)) snprintf(why, sizeof why, "server exited with status %d", WEXITSTATUS(st));
    else snprintf(why, sizeof why, "server killed by signal %d", WTERMSIG(st));
    lg_error(g, -1, why, 0);
}

/* One round of events, at most 100 ms. */
static void lg_poll(struct gen *g) {
    struct epoll_event ev[512];
    int k = epoll_wait(g->ep, ev, 512, 100);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    for (int j = 0; j < k; j++) {
        long i = (long) ev[j].data.u64;
        struct conn *c = &g->c[i];
        if (c->state == C_CONNECTING) { lg_connected(g, i); continue; }
        if (c->state == C_DEAD) continue;
        if ((ev[j].events & EPOLLOUT) && c->put < MSG) lg_flush(g, i);
        if (ev[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) lg_readable(g, i);
    }
}

/* Resident set of the server (kB), 0 if unknown. */
static long lg_rss(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* CPU seconds (user + system) the server has used so far. */
static double lg_cpu(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');             /* the name may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static double lg_selfcpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_stime.tv_sec
         + ((double) ru.ru_utime.tv_usec + (double) ru.ru_stime.tv_usec) * 1e-6;
}

/* Starts the server with its stdout on a pipe; returns the port it prints. */
static int lg_start(struct gen *g, char **argv, int *out) {
    int p[2];
    if (pipe(p) < 0) die("pipe");
    g->server = fork();
    if (g->server < 0) die("fork");
    if (g->server == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "loadgen: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    char line[64];
    size_t len = 0;
    double limit = now() + 30;
    while (len < sizeof line - 1 && now() < limit) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0) continue;
        ssize_t r = read(p[0], line + len, 1);
        if (r <= 0) break;
        if (line[len] == '\n') break;
        len++;
    }
    line[len] = 0;
    return atoi(line);
}

static void lg_stop(struct gen *g, int out) {
    if (!g->server_gone) {
        kill(g->server, SIGTERM);
        int st;
        struct timespec tenth = {0, 100000000};
        for (int k = 0; k < 30 && waitpid(g->server, &st, WNOHANG) == 0; k++) nanosleep(&tenth, NULL);
        if (waitpid(g->server, &st, WNOHANG) == 0) {
            kill(g->server, SIGKILL);
            waitpid(g->server, &st, 0);
        }
    }
    close(out);
}

static void lg_raise_nofile(long need) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || (rlim_t) need <= rl.rlim_cur) return;
    rl.rlim_cur = (rlim_t) need < rl.rlim_max ? (rlim_t) need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv) {
    long n = 200;
    double secs = 3, rss_every = 0;
    const char *name = "concurrent";
    int a = 1;
    for (; a < argc && strcmp(argv[a], "--") != 0; a++) {
        if (a + 1 >= argc) break;
        if (!strcmp(argv[a], "-n")) n = atol(argv[++a]);
        else if (!strcmp(argv[a], "-t")) secs = atof(argv[++a]);
        else if (!strcmp(argv[a], "-r")) rss_every = atof(argv[++a]);
        else if (!strcmp(argv[a], "-m")) name = argv[++a];
        else break;
    }
    if (a >= argc - 1 || strcmp(argv[a], "--") != 0 || n < 1 || !(secs > 0)) {
        fprintf(stderr, "usage: loadgen [-n CONNS] [-t SECONDS] [-r RSS_EVERY] [-m NAME] -- SERVER ARGV...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lg_raise_nofile(n + 64);                        /* the server inherits it */
    struct gen g;
    memset(&g, 0, sizeof g);
    g.n = n;
    g.c = calloc((size_t) n, sizeof *g.c);
    if (!g.c) die("calloc");
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (g.ep < 0) die("epoll_create1");
    int out, port = lg_start(&g, argv + a + 1, &out);
    if (port <= 0) {
        lg_checkserver(&g);
        printf("FAILED %s: the server printed no port%s%s\n", name, g.errors ? "; " : "", g.first);
        lg_stop(&g, out);
        return 1;
    }

    /* connect */
    long next = 0;
    double limit = now() + PHASE_LIMIT;
    while ((next < n || g.ninflight > 0) && now() < limit && !g.server_gone) {
        while (next < n && g.ninflight < MAX_CONNECTING) lg_open(&g, next++, port);
        lg_poll(&g);
        lg_checkserver(&g);
    }
    for (long i = 0; i < n; i++)
        if (g.c[i].state == C_CONNECTING) lg_kill(&g, i, "connect did not finish in time", 0);
    double t_conn = now() - (limit - PHASE_LIMIT);

    /* warm-up: every connection answered at least once */
    for (long i = 0; i < n; i++) if (g.c[i].state == C_IDLE) lg_request(&g, i);
    double t0 = now();
    limit = t0 + PHASE_LIMIT;
    while (now() < limit && !g.server_gone && (g.answered + g.lost < n || now() < t0 + 0.5)) {
        lg_poll(&g);
        lg_checkserver(&g);
    }
    for (long i = 0; i < n; i++)
        if (!g.c[i].replied) lg_kill(&g, i, "no reply during the warm-up", 0);
    double t_warm = now() - t0;

    /* measure */
    long rss0 = lg_rss(g.server), rss1;
    double cpu0 = lg_cpu(g.server), self0 = lg_selfcpu();
    g.measuring = 1;
    t0 = now();
    double t_end = t0 + secs, t_rss = t0;
    for (double t = t0; t < t_end && !g.server_gone; t = now()) {
        if (rss_every > 0 && t >= t_rss) {
            rss1 = lg_rss(g.server);
            printf("RSS %.1f %ld\n", t - t0, rss1);
            fflush(stdout);
            t_rss += rss_every;
        }
        lg_poll(&g);
        lg_checkserver(&g);
    }
    double t = now() - t0;
    if (t < 1e-3) t = 1e-3;                         /* the server died at once */
    g.measuring = 0;
    rss1 = lg_rss(g.server);
    double cpu = lg_cpu(g.server) - cpu0, self = lg_selfcpu() - self0;

    /* drain what is still owed, then close */
    g.stopping = 1;
    limit = now() + DRAIN_LIMIT;
    while (g.waiting > 0 && now() < limit && !g.server_gone) {
        lg_poll(&g);
        lg_checkserver(&g);
    }
    long alive = 0;
    for (long i = 0; i < n; i++) {
        if (g.c[i].state == C_WAITING) lg_kill(&g, i, "no reply at the end", 0);
        if (g.c[i].state != C_DEAD) { alive++; close(g.c[i].fd); }
    }
    lg_checkserver(&g);
    lg_stop(&g, out);

    printf("INFO %s conns=%ld open_at_end=%ld replies=%ld secs=%.3f rate=%.0f errors=%ld "
           "server_cpu=%.0f%% loadgen_cpu=%.0f%% rss_start_kb=%ld rss_end_kb=%ld "
           "connect_secs=%.2f warmup_secs=%.2f\n",
           name, n, alive, g.replies, t, (double) g.replies / t, g.errors, 100 * cpu / t,
           100 * self / t, rss0, rss1, t_conn, t_warm);
    if (g.errors) {
        printf("FAILED %s: %ld errors; first: %s\n", name, g.errors, g.first);
        return 1;
    }
    result(name, (double) g.replies, t);
    return 0;
}
