/* Stand-in for <dlfcn.h> on Windows: wposix.h (force-included) declares it all. */
