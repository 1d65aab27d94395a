/*
 * state.c: making the Lua state that the REPL and scripts run in, finding
 * attnlab's Lua files, and stopping running code on Ctrl-C.
 *
 * attn_lua_new() does all its Lua work inside one protected call, so a
 * failure anywhere (no memory, init.lua missing or broken, an unavailable
 * --device) becomes a message in the caller's buffer, never a panic.
 * It does not install signal handlers: the REPL and main.c decide when
 * Ctrl-C means "interrupt" and call attn_lua_interrupt() from theirs.
 */
#include <config.h>

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "attn_lua.h"
#include "core/interrupt.h"
#include "safe.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* ---- finding the Lua files --------------------------------------------- */

/* Whether dir/lua/attn/init.lua exists. */
static int root_holds_lua(const char *dir) {
    char probe[PATH_MAX + 32];
    int n = snprintf(probe, sizeof probe, "%s/lua/attn/init.lua", dir);
    return n > 0 && (size_t)n < sizeof probe && access(probe, R_OK) == 0;
}

/* The folder of the running executable into buf; 0 when unknown. */
static int exe_dir(char *buf, size_t size) {
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return 0;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    return 1;
}

/* Search in the order documented in attn_lua.h. The build tree comes before
   the installed copy so that a freshly built ./attnlab runs its own files. */
static int root_find(char *out, size_t size) {
    const char *env = getenv("ATTNLAB_PATH");
    if (env != NULL && env[0] != '\0')
        return snprintf(out, size, "%s", env) < (int)size;
    char dir[PATH_MAX];
    if (exe_dir(dir, sizeof dir)) {
        if (root_holds_lua(dir))
            return snprintf(out, size, "%s", dir) < (int)size;
        char share[PATH_MAX + 32];
        snprintf(share, sizeof share, "%s/../share/attnlab", dir);
        if (root_holds_lua(share))
            return realpath(share, out) != NULL;
    }
    if (root_holds_lua(ATTNLAB_DATADIR))
        return snprintf(out, size, "%s", ATTNLAB_DATADIR) < (int)size;
    return 0;
}

const char *attn_lua_root(void) {
    // Computed once: the answer cannot change while the process runs.
    static char root[PATH_MAX];
    static int state = 0; // 0 not yet looked, 1 found, -1 not found
    if (state == 0)
        state = root_find(root, sizeof root) ? 1 : -1;
    return state > 0 ? root : NULL;
}

/* ---- the state --------------------------------------------------------- */

/* package.path = <root>/lua/?.lua;<root>/lua/?/init.lua;<the default>. */
static void set_path(lua_State *L, const char *root) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s", root, root, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

/* package.preload["attn.core"] = luaopen_attn_core */
static void preload_core(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_attn_core);
    lua_setfield(L, -2, "attn.core");
    lua_pop(L, 1);
}

/* attn.config = {headless=, safe=, device=, root=}; attn is at the top.
   root is the folder holding lua/, data/ and lessons/: the shipped models
   and lessons are found from it, in the build tree and once installed. */
static void set_config(lua_State *L, const AttnConfig *cfg, const char *root) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, root);
    lua_setfield(L, -2, "root");
    lua_pushboolean(L, cfg->headless);
    lua_setfield(L, -2, "headless");
    lua_pushboolean(L, cfg->safe);
    lua_setfield(L, -2, "safe");
    lua_pushstring(L, cfg->device ? cfg->device : "cpu");
    lua_setfield(L, -2, "device");
    lua_setfield(L, -2, "config");
}

/* --device: through attn.set_default_device when the library has it; a
   build without it runs on the CPU only. attn is at the top. A device that
   is not there (no GPU, no driver) is one line on stderr and the run goes
   on on the cpu: a lesson or script written for a GPU still runs. */
static void set_device(lua_State *L, const char *device) {
    if (device == NULL)
        return;
    if (lua_getfield(L, -1, "set_default_device") == LUA_TFUNCTION) {
        lua_pushstring(L, device);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            fprintf(stderr, "attnlab: --device %s: %s; running on the cpu\n", device,
                    lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
            lua_pop(L, 1);
            if (lua_getfield(L, -1, "config") == LUA_TTABLE) {
                lua_pushliteral(L, "cpu");
                lua_setfield(L, -2, "device");
            }
            lua_pop(L, 1);
        }
        return;
    }
    lua_pop(L, 1);
    if (strcmp(device, "cpu") != 0)
        luaL_error(L,
                   "--device %s: this build has no attn.set_default_device, "
                   "so only the cpu device is available",
                   device);
}

/* The protected body of attn_lua_new: argument 1 is the AttnConfig. */
static int state_init(lua_State *L) {
    const AttnConfig *cfg = lua_touserdata(L, 1);
    const char *root = attn_lua_root();
    luaL_openlibs(L);
    if (root == NULL)
        return luaL_error(L,
                          "cannot find attnlab's Lua files (lua/attn/init.lua) next to the "
                          "program or in %s; set ATTNLAB_PATH to the folder that holds lua/",
                          ATTNLAB_DATADIR);
    if (!root_holds_lua(root))
        return luaL_error(L, "%s holds no lua/attn/init.lua (is ATTNLAB_PATH right?)", root);
    set_path(L, root);
    preload_core(L);
    // Before require: attn's own Lua files then load under the same rules.
    if (cfg->safe)
        attn_safe_apply(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "attn");
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "attn");
    if (!lua_istable(L, -1))
        return luaL_error(L, "require \"attn\" returned a %s, not a table", luaL_typename(L, -1));
    // help(x) is the one global besides attn that API.md promises: at a
    // prompt, typing attn.help every time is a chore.
    lua_getfield(L, -1, "help");
    lua_setglobal(L, "help");
    set_config(L, cfg, root);
    set_device(L, cfg->device);
    return 0;
}

lua_State *attn_lua_new(const AttnConfig *cfg, char *errbuf, size_t errsize) {
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        snprintf(errbuf, errsize, "cannot create the Lua state: out of memory");
        return NULL;
    }
    lua_pushcfunction(L, state_init);
    lua_pushlightuserdata(L, (void *)cfg);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        snprintf(errbuf, errsize, "%s", msg ? msg : "(error object is not a string)");
        lua_close(L);
        return NULL;
    }
    return L;
}

/* ---- Ctrl-C ------------------------------------------------------------ */

/* Runs at the next Lua call, return, line or instruction after Ctrl-C. It
   removes itself first, so the error handler that runs next is not hit. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted");
}

void attn_lua_interrupt(lua_State *L) {
    // lua_sethook is safe from a signal handler (lua.c relies on it too).
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    at_interrupt_raise();
    lua_sethook(L, interrupt_hook, mask, 1);
}

void attn_lua_interrupt_clear(lua_State *L) {
    lua_sethook(L, NULL, 0, 0);
    at_interrupt_clear();
}
