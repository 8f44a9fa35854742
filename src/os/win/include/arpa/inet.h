/* Stand-in for <arpa/inet.h> on Windows: wposix.h (force-included) declares it all. */
