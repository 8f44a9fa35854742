/* Stand-in for <net/if.h> on Windows: wposix.h (force-included) declares it all. */
