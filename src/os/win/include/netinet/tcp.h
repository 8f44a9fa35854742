/* Stand-in for <netinet/tcp.h> on Windows: wposix.h (force-included) declares it all. */
