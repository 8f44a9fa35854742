#ifndef NETSOCKET_OPTIONS_H
#define NETSOCKET_OPTIONS_H
/* setoption / getoption: one table row per option (API.md §4.5). */
#include "compat.h"

typedef struct options_row options_row;
typedef int (*options_fn)(lua_State *L, int fd, const options_row *row);
struct options_row {
    const char *name;
    int level, optname;
    options_fn get, set;      /* NULL: that direction is unsupported */
};

extern const options_row options_tcp[];
extern const options_row options_udp[];
extern const options_row options_unix[];
extern const options_row options_unixdgram[];

/* obj:setoption(name, value) / obj:getoption(name) on fd. */
int options_meth_set(lua_State *L, const options_row *rows, int fd);
int options_meth_get(lua_State *L, const options_row *rows, int fd);
/* Copies every settable option of `rows` from one socket to another. */
void options_copy(const options_row *rows, int from, int to);

#endif
