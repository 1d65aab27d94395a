/*
 * complete.h: tab completion of Lua names in the REPL.
 *
 * Completes globals and Lua keywords, fields after `.` and methods after
 * `:` (through metatables' __index tables, chains included) along dotted
 * paths like attn.nn.Mul, and REPL commands (.help ...) at the start of a
 * line. Inside a string literal it leaves readline to complete file names.
 */
#ifndef ATTN_COMPLETE_H
#define ATTN_COMPLETE_H

#include <lua.h>

/* Make readline complete against the globals of L (borrowed: L must live
   until complete_shutdown). `commands` is a NULL-terminated list of REPL
   commands (".help", ...), borrowed the same way. */
void complete_init(lua_State *L, const char *const *commands);

/* Free what completion keeps between attempts. */
void complete_shutdown(void);

#endif
