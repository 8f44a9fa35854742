/* udp: N round trips of a 64-byte datagram with a connected UDP socket. */
#include "common.h"
int main(int argc, char **argv) {
    (void) argc;
    long n = scaled(100000);
    int port, fd = bound(SOCK_DGRAM, &port);
    pid_t pid = peer4(argv[0], "udpecho", port, n, 1);
    char buf[65536], msg[64];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    if (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len) < 0) die("hello");
    if (connect(fd, (struct sockaddr *) &from, len) < 0) die("connect");
    memset(msg, 'u', sizeof msg);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (send(fd, msg, sizeof msg, 0) < 0) die("send");
        if (recv(fd, buf, sizeof buf, 0) != 64) die("recv");
    }
    double t = now() - t0;
    close(fd);
    reap(pid);
    result("udp", (double) n, t);
    return 0;
}
