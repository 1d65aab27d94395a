/*
 * repl.h: running Lua code for the command line and the interactive REPL.
 *
 * The REPL reads with GNU Readline's callback interface from a loop that
 * waits on stdin at most ~16 ms at a time and calls attn_lua_idle in
 * between, so open windows stay live while the user types.
 */
#ifndef ATTN_REPL_H
#define ATTN_REPL_H

#include <lua.h>

/* Install the SIGINT handler that interrupts code running in L (and clears
   the line at the prompt). With `interactive` 0 (scripts), a second Ctrl-C
   before the first one was acted on kills the process the default way, in
   case it is stuck in C code that never looks at the flag. With L NULL,
   restore the default handlers (before closing the state). */
void repl_signals_install(lua_State *L, int interactive);

/* Call the function below `narg` arguments on the stack in protected mode,
   with a traceback on error; the interrupt flag and hook are cleared
   first. Returns the lua_pcall status; on error the message (with the
   traceback, REPL frames trimmed) is on the stack. */
int repl_pcall(lua_State *L, int narg, int nres);

/* Print the error message at the top of the stack to stderr (prefixed with
   `prefix` and ": " when prefix is not NULL; "interrupted" alone after
   Ctrl-C) and pop it. */
void repl_report(lua_State *L, const char *prefix);

/* Print the top n values through attn.pretty (tab-separated, or one per
   line when any of them spans lines) and pop them. */
void repl_print_values(lua_State *L, int n);

/* The interactive loop on the terminal on stdin; returns the exit status
   (0 after Ctrl-D or .quit). */
int repl_run(lua_State *L);

#endif
