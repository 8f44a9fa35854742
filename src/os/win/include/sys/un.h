/* Stand-in for <sys/un.h> on Windows: wposix.h (force-included) declares it all. */
