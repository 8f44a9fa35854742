/* libFuzzer target: the option and argument parsers (setoption, getoption,
 * settimeout, bind/connect addresses and ports, listen backlogs, receive
 * patterns, the module's constructors and dns functions), fed Lua values
 * decoded from the input by fuzz/options.lua. Addresses stay on loopback
 * (fuzz/guard.c). */
#include "fuzzlua.h"

FUZZLUA_TARGET("options", NULL, fuzzlua_nothing, fuzzlua_nothing)
