#ifndef NETSOCKET_FUZZLUA_H
#define NETSOCKET_FUZZLUA_H
/* What every fuzz target shares: a Lua 5.4 state that loads the real
 * netsocket modules linked into the fuzzer binary, the target's Lua driver
 * from fuzz/, and abort() on anything that must never happen (libFuzzer
 * reports an abort as a crash and saves the input). */
#include "lua.h"
#include "lauxlib.h"

/* Every input runs in a state of its own, closed afterwards: an input then
 * frees all it allocates unless the library leaks, which lets libFuzzer's
 * per-input leak check (-detect_leaks=1) run cheaply and mean something.
 * Such a state has the standard libraries, package.preload for socket.core,
 * socket.unix and socket.ssl.core, package.path on lua/ and fuzz/, the
 * global `fuzz` table (fuzz.fail plus the target's `funcs`), and the driver
 * fuzz/<driver>.lua run: it returns the function that takes the input.
 * fuzzlua_init checks the setup once (aborting on error) and keeps the
 * arguments for fuzzlua_run. */
void fuzzlua_init(const char *driver, const luaL_Reg *funcs);
/* Runs the driver on the input (as a string) in a fresh state; aborts on a
 * Lua error (a disagreement or an unexpected raise). */
void fuzzlua_run(const unsigned char *data, size_t size);
/* Defines libFuzzer's entry points for a target: once, setup() then
 * fuzzlua_init(driver, funcs); per input, fuzzlua_run then after() (either
 * may be a no-op function). */
#define FUZZLUA_TARGET(driver, funcs, setup, after) \
    int LLVMFuzzerInitialize(int *argc, char ***argv); \
    int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size); \
    int LLVMFuzzerInitialize(int *argc, char ***argv) { \
        (void) argc; \
        (void) argv; \
        setup(); \
        fuzzlua_init((driver), (funcs)); \
        return 0; \
    } \
    int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) { \
        fuzzlua_run(data, size); \
        after(); \
        return 0; \
    }
/* The no-op for FUZZLUA_TARGET's setup or after. */
static inline void fuzzlua_nothing(void) {}

/* Prints msg and aborts. */
void fuzzlua_die(const char *what, const char *msg) __attribute__((noreturn));

#endif
