/* Stand-in for <netinet/in.h> on Windows: wposix.h (force-included) declares it all. */
