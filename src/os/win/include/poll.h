/* Stand-in for <poll.h> on Windows: wposix.h (force-included) declares it all. */
