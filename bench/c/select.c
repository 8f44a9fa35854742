/* select K: poll() over K idle UDP sockets plus one ready one, M times;
 * the pollfd array is built once (the machine's limit, not a rebuild). */
#include "common.h"
int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 100;
    long m = scaled(3e6 / (k + 1)) ;
    if (m < 20) m = 20;
    struct pollfd *p = calloc((size_t) k + 1, sizeof *p);
    for (int i = 0; i < k; i++) {
        int port;
        p[i].fd = bound(SOCK_DGRAM, &port);
        p[i].events = POLLIN;
    }
    int rport, r = bound(SOCK_DGRAM, &rport);
    struct sockaddr_in to = loopback(rport);
    if (sendto(r, "x", 1, 0, (struct sockaddr *) &to, sizeof to) < 0) die("sendto");
    p[k].fd = r;
    p[k].events = POLLIN;
    double t0 = now();
    for (long i = 0; i < m; i++) {
        int n = poll(p, (nfds_t) k + 1, -1);
        if (n != 1) { fprintf(stderr, "select: %d ready\n", n); return 2; }
        int found = 0;
        for (int j = 0; j <= k; j++) if (p[j].revents & POLLIN) found++;
        if (found != 1) return 2;
    }
    double t = now() - t0;
    char name[32];
    snprintf(name, sizeof name, "select%d", k);
    result(name, (double) m, t);
    return 0;
}
