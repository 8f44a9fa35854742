/* Stand-in for <sys/ioctl.h> on Windows: wposix.h (force-included) declares it all. */
