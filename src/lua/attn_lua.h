/*
 * attn_lua.h: what the REPL and the command line need from the Lua layer.
 *
 * attn_lua_new() makes a Lua state with the standard libraries, the search
 * path pointing at attnlab's lua/ folder, `attn` loaded as a global (and as
 * package.loaded.attn), and, with safe set, the sandbox of --safe.
 */
#ifndef ATTN_LUA_H
#define ATTN_LUA_H

#include <lua.h>

typedef struct AttnConfig {
    int headless;       // --headless: no windows, pictures to terminal/files
    int safe;           // --safe: no os.execute, io.popen, loadlib, outside writes
    const char *device; // --device: "cpu" / "cuda" or NULL (default cpu)
} AttnConfig;

/* A new state, or NULL with the reason in errbuf. Close with lua_close. */
lua_State *attn_lua_new(const AttnConfig *cfg, char *errbuf, size_t errsize);

/* The folder holding lua/attn/init.lua (ATTNLAB_PATH, the build tree next
   to the executable, or the installed data dir); NULL if none is found. */
const char *attn_lua_root(void);

/* Async-signal-safe: raise the Ctrl-C flag for C loops and set a hook that
   stops the running Lua code with the error "interrupted". */
void attn_lua_interrupt(lua_State *L);
/* Clear the flag and remove the hook (the REPL calls it before each run). */
void attn_lua_interrupt_clear(lua_State *L);

/* Work that runs while the REPL waits for keys (about every 16 ms): open
   windows handle their events and redraw, so they stay live as you type. */
void attn_lua_idle(lua_State *L);

/* luaopen function of the C half of attn (package "attn.core"). */
int luaopen_attn_core(lua_State *L);

#endif
