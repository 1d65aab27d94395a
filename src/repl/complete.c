/*
 * complete.c: tab completion of Lua names for the REPL (see complete.h).
 *
 * Completion must never run user code: a Tab press that calls an __index
 * function could print, allocate gigabytes or loop forever. So paths are
 * walked with raw reads only: lua_rawget on tables, and for a missing field
 * (or a userdata such as a tensor) the metatable's __index when that is a
 * table, never when it is a function. When __index is a function, a
 * `methods` table in the metatable (attn.Tensor has one) stands in for it.
 * Other fields hidden behind __index functions are simply not offered.
 *
 * The walk runs inside lua_pcall (Lua may raise on memory); its answer is a
 * Lua table of candidates, copied into C strings for readline afterwards.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include <lauxlib.h>

#include "complete.h"

enum { INDEX_DEPTH = 16 }; // __index tables followed at most (they may loop)

static lua_State *comp_L;
static const char *const *comp_commands;
static char **comp_words;        // candidates of the current attempt
static unsigned char *comp_isfn; // comp_isfn[i]: comp_words[i] is a function
static size_t comp_count;

static const char *const keywords[] = {
    "and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while", NULL,
};

static int is_alpha_(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident(const char *s, size_t n) {
    if (n == 0 || !is_alpha_(s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_alpha_(s[i]) && !(s[i] >= '0' && s[i] <= '9'))
            return 0;
    return 1;
}

/* The last '.' or ':' in s, or NULL. */
static const char *last_sep(const char *s) {
    const char *sep = NULL;
    for (; *s; s++)
        if (*s == '.' || *s == ':')
            sep = s;
    return sep;
}

/* Replace the value at the top by the table its metatable looks names up
   in: __index when that is a table, else the metatable's `methods` table
   (the convention of attn's userdata, whose __index is a function because
   t[i] selects rows). Returns 0 (value popped) when there is none. */
static int next_index_table(lua_State *L) {
    if (!lua_getmetatable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushliteral(L, "methods");
        lua_rawget(L, -2);
    }
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (lua_istable(L, -1))
        return 1;
    lua_pop(L, 1);
    return 0;
}

/* Push v[key] as Lua would find it through fields and __index tables
   (v at index vi), or nil when that needs an __index function. */
static void lookup(lua_State *L, int vi, const char *key) {
    lua_pushvalue(L, vi);
    for (int depth = 0; depth < INDEX_DEPTH; depth++) {
        if (lua_istable(L, -1)) {
            lua_pushstring(L, key);
            lua_rawget(L, -2);
            if (!lua_isnil(L, -1)) {
                lua_remove(L, -2);
                return;
            }
            lua_pop(L, 1);
        }
        if (!next_index_table(L)) {
            lua_pushnil(L);
            return;
        }
    }
    lua_pop(L, 1);
    lua_pushnil(L);
}

/* Add head..key = isfunction to the result table (at index res) for each
   identifier key of the table at the top starting with `part`. The first
   one found wins: own fields shadow those reached through __index. */
static void add_keys(lua_State *L, int res, const char *head, const char *part, int methods) {
    size_t plen = strlen(part);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        size_t klen;
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : NULL;
        int isfn = lua_type(L, -1) == LUA_TFUNCTION;
        if (key && is_ident(key, klen) && !strncmp(key, part, plen) && (isfn || !methods)) {
            lua_pushfstring(L, "%s%s", head, key);
            lua_pushvalue(L, -1);
            if (lua_rawget(L, res) == LUA_TNIL) {
                lua_pop(L, 1);
                lua_pushboolean(L, isfn);
                lua_rawset(L, res);
            } else {
                lua_pop(L, 2);
            }
        }
        lua_pop(L, 1);
    }
}

/* Candidates from the value at vi, its fields and its __index tables. */
static void add_all(lua_State *L, int vi, int res, const char *head, const char *part,
                    int methods) {
    lua_pushvalue(L, vi);
    for (int depth = 0; depth < INDEX_DEPTH; depth++) {
        if (lua_istable(L, -1))
            add_keys(L, res, head, part, methods);
        if (!next_index_table(L))
            return;
    }
    lua_pop(L, 1);
}

/* Push the value named by the dotted path text[0..len) ("a.b.c"), or nil
   when a component is no identifier or cannot be reached without code. */
static void resolve(lua_State *L, const char *text, size_t len) {
    lua_pushglobaltable(L);
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && text[j] != '.')
            j++;
        if (!is_ident(text + i, j - i)) {
            lua_pop(L, 1);
            lua_pushnil(L);
            return;
        }
        lua_pushlstring(L, text + i, j - i);
        lookup(L, -2, lua_tostring(L, -1));
        lua_remove(L, -2);
        lua_remove(L, -2);
        i = j + 1;
    }
}

/* Protected: argument 1 is the word being completed; returns the table
   { candidate = isfunction }. */
static int collect(lua_State *L) {
    const char *text = lua_tostring(L, 1);
    lua_newtable(L);
    int res = lua_gettop(L);
    const char *sep = last_sep(text);
    if (sep == NULL) {
        lua_pushglobaltable(L);
        add_all(L, lua_gettop(L), res, "", text, 0);
        for (int i = 0; keywords[i]; i++)
            if (!strncmp(keywords[i], text, strlen(text))) {
                lua_pushboolean(L, 0);
                lua_setfield(L, res, keywords[i]);
            }
        lua_settop(L, res);
        return 1;
    }
    if (memchr(text, ':', (size_t)(sep - text)) != NULL)
        return 1; // a method call's result: unknown without calling it
    resolve(L, text, (size_t)(sep - text));
    lua_pushlstring(L, text, (size_t)(sep - text) + 1);
    if (!lua_isnil(L, -2))
        add_all(L, lua_gettop(L) - 1, res, lua_tostring(L, -1), sep + 1, *sep == ':');
    lua_settop(L, res);
    return 1;
}

static void words_free(void) {
    for (size_t i = 0; i < comp_count; i++)
        free(comp_words[i]);
    free(comp_words);
    free(comp_isfn);
    comp_words = NULL;
    comp_isfn = NULL;
    comp_count = 0;
}

/* Copy the candidates table at the top into comp_words; pops it. */
static void words_take(lua_State *L) {
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    comp_words = calloc(n ? n : 1, sizeof *comp_words);
    comp_isfn = calloc(n ? n : 1, 1);
    if (comp_words == NULL || comp_isfn == NULL) {
        words_free();
        lua_pop(L, 1);
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) && comp_count < n) {
        char *w = strdup(lua_tostring(L, -2));
        if (w != NULL) {
            comp_isfn[comp_count] = (unsigned char)lua_toboolean(L, -1);
            comp_words[comp_count++] = w;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Fill comp_words for `text`; nothing on any Lua error (out of memory, or
   Ctrl-C pressed just before Tab). */
static void words_collect(const char *text) {
    lua_State *L = comp_L;
    int top = lua_gettop(L);
    words_free();
    if (!lua_checkstack(L, 8))
        return;
    lua_pushcfunction(L, collect);
    lua_pushstring(L, text);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK)
        words_take(L);
    lua_settop(L, top);
}

/* REPL commands starting with `text`. */
static void words_commands(const char *text) {
    size_t n = 0, len = strlen(text);
    words_free();
    while (comp_commands && comp_commands[n])
        n++;
    comp_words = calloc(n ? n : 1, sizeof *comp_words);
    comp_isfn = calloc(n ? n : 1, 1);
    if (comp_words == NULL || comp_isfn == NULL) {
        words_free();
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!strncmp(comp_commands[i], text, len) &&
            (comp_words[comp_count] = strdup(comp_commands[i])))
            comp_count++;
}

/* readline's generator: hands out comp_words one by one (it frees them). */
static char *words_next(const char *text, int state) {
    static size_t next;
    (void)text;
    if (state == 0)
        next = 0;
    return next < comp_count ? strdup(comp_words[next++]) : NULL;
}

/* After one unique match: "(" after a function, nothing otherwise (a
   table name is usually followed by . or :, which the user types). */
static void set_append(const char *match) {
    rl_completion_append_character = '\0';
    for (size_t i = 0; i < comp_count; i++)
        if (!strcmp(comp_words[i], match) && comp_isfn[i])
            rl_completion_append_character = '(';
}

static char **complete_attempt(const char *text, int start, int end) {
    (void)end;
    rl_completion_append_character = '\0';
    if (rl_completion_quote_character != 0) {
        rl_attempted_completion_over = 0; // inside a string: file names
        return NULL;
    }
    rl_attempted_completion_over = 1;
    if (start == 0 && text[0] == '.')
        words_commands(text);
    else
        words_collect(text);
    char **matches = rl_completion_matches(text, words_next);
    if (matches != NULL && matches[1] == NULL)
        set_append(matches[0]);
    return matches;
}

/* List matches without their common "a.b." head: the candidates of
   attn.ze<Tab><Tab> read "zeros  zeros_like", not the full paths. */
static void complete_display(char **matches, int n, int max) {
    const char *last = matches[1];
    const char *sep = last_sep(last);
    size_t skip = (sep && last[0] != '.') ? (size_t)(sep - last) + 1 : 0;
    char **shown = calloc((size_t)n + 2, sizeof *shown);
    if (shown == NULL)
        return;
    shown[0] = matches[0];
    for (int i = 1; i <= n; i++)
        shown[i] = strlen(matches[i]) >= skip ? matches[i] + skip : matches[i];
    rl_display_match_list(shown, n, max - (int)skip);
    free(shown);
    rl_forced_update_display();
}

void complete_init(lua_State *L, const char *const *commands) {
    comp_L = L;
    comp_commands = commands;
    rl_attempted_completion_function = complete_attempt;
    rl_completion_display_matches_hook = complete_display;
    // Not . or : : "attn.nn.Li" and "x:soft" are one word to complete.
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";
    rl_completer_word_break_characters = rl_basic_word_break_characters;
    rl_completer_quote_characters = "\"'";
}

void complete_shutdown(void) {
    words_free();
    rl_attempted_completion_function = NULL;
    rl_completion_display_matches_hook = NULL;
    comp_L = NULL;
}
