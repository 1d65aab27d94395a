/*
 * safe.h: the --safe sandbox for shared classroom scripts.
 *
 * The sandbox keeps a script from running programs, loading C code or binary
 * chunks, and from creating, changing or deleting files outside the working
 * folder. Reading files stays allowed everywhere. It is a guard against
 * careless or mischievous scripts, not a security boundary against a
 * determined attacker with other ways into the machine (no resource limits,
 * no protection against races on the file system while a script runs).
 *
 * What attn_safe_apply() changes (see safe.c for the reasons):
 *   - os.execute, io.popen, package.loadlib: replaced by functions that raise
 *     "<name>: not allowed in --safe mode";
 *   - os.tmpname: raises the same way (it creates a file in /tmp);
 *   - io.open (modes with w, a or +), io.output(name), os.remove, os.rename:
 *     only for paths inside the working folder (see attn_safe_path_writable);
 *   - load, loadfile, dofile, require: text chunks only (a binary chunk can
 *     crash the interpreter); package.cpath is empty and the C searchers are
 *     gone;
 *   - debug: only debug.traceback and debug.getinfo remain (the rest reaches
 *     the upvalues and registry where the original functions live);
 *   - os.exit stays: ending one's own process harms nobody.
 */
#ifndef ATTN_SAFE_H
#define ATTN_SAFE_H

#include <lua.h>

/* Turn the sandbox on in L (after luaL_openlibs, before any script runs).
   Raises a Lua error on failure (memory), so call it in protected mode. */
void attn_safe_apply(lua_State *L);

/* Whether the sandbox is on in L. */
int attn_safe_enabled(lua_State *L);

/* May a script write `path` (create, truncate, append, remove, rename)?
   Returns 1 when allowed: the sandbox is off, or the path resolves (after
   following `..` and symbolic links, including one at the end of the path)
   to a place strictly inside the current working folder.
   Returns 0 when refused and pushes one string onto the stack saying why,
   phrased to follow the caller's name, e.g.
   "'../x' is outside the working folder (--safe allows writes only there)".
   Typical use in a binding:
       if (!attn_safe_path_writable(L, path))
           return luaL_error(L, "attn.save: %s", lua_tostring(L, -1));
   Raises an error only if memory runs out while pushing the message. */
int attn_safe_path_writable(lua_State *L, const char *path);

#endif
