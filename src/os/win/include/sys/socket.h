/* Stand-in for <sys/socket.h> on Windows: wposix.h (force-included) declares it all. */
