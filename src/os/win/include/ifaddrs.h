/* Stand-in for <ifaddrs.h> on Windows: wposix.h (force-included) declares it all. */
