/* Stand-in for <netdb.h> on Windows: wposix.h (force-included) declares it all. */
