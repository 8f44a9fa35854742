/* Stand-in for <sys/resource.h> on Windows: wposix.h (force-included) declares it all. */
