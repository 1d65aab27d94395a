/*
 * l_tokenizer.c: attn.tokenizer: bpe{vocab=, merges=} (GPT-2),
 * wordpiece{vocab=, lowercase=} (BERT) and chars() (UTF-8 characters), all
 * one userdata type "attn.Tokenizer" with encode / decode / tokens / labels /
 * vocab_size.
 *
 * Ids are the vocabulary's own (0-based, as in vocab.json and vocab.txt),
 * as Lua integers: they index the model's embedding table, not a Lua list.
 * C buffers live in a "scratch" userdata whose __gc frees them, so a Lua
 * error (bad argument, memory) never leaks them.
 */
#include <config.h>

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../io/bpe.h"
#include "../io/chars.h"
#include "../io/wordpiece.h"
#include "l_modules.h"
#include "l_tensor.h"

#define TOK_META "attn.Tokenizer"
#define SCRATCH_META "attn.TokenizerScratch"

enum { K_BPE, K_WORDPIECE, K_CHARS };
static const char *const kind_names[] = {"bpe", "wordpiece", "chars"};

typedef struct {
    int kind;
    void *impl; // Bpe *, WordPiece *, CharTok *; NULL once closed
} LTok;

typedef struct {
    TokIds ids;
    TokText text;
    size_t *offs;
    const char **pieces;
    size_t *lens;
} Scratch;

static int scratch_gc(lua_State *L) {
    Scratch *s = luaL_checkudata(L, 1, SCRATCH_META);
    tokids_free(&s->ids);
    toktext_free(&s->text);
    free(s->offs);
    free(s->pieces);
    free(s->lens);
    memset(s, 0, sizeof *s);
    return 0;
}

static Scratch *push_scratch(lua_State *L) {
    Scratch *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SCRATCH_META);
    return s;
}

static int tok_gc(lua_State *L) {
    LTok *t = luaL_checkudata(L, 1, TOK_META);
    if (t->kind == K_BPE)
        bpe_free(t->impl);
    else if (t->kind == K_WORDPIECE)
        wordpiece_free(t->impl);
    else
        chartok_free(t->impl);
    t->impl = NULL;
    return 0;
}

static LTok *check_tok(lua_State *L, const char *who) {
    LTok *t = luaL_checkudata(L, 1, TOK_META);
    if (!t->impl)
        luaL_error(L, "tokenizer:%s: the tokenizer is closed", who);
    return t;
}

/* Push an empty tokenizer userdata; the constructor fills impl. */
static LTok *push_tok(lua_State *L, int kind) {
    LTok *t = lua_newuserdatauv(L, sizeof *t, 0);
    t->kind = kind;
    t->impl = NULL;
    luaL_setmetatable(L, TOK_META);
    return t;
}

/* A string field of the options table at 1, or NULL when absent. */
static const char *opt_string(lua_State *L, const char *key, const char *who, int required) {
    int ty = lua_getfield(L, 1, key);
    const char *s = NULL;
    if (ty == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (ty != LUA_TNIL || required)
        luaL_error(L, "attn.tokenizer.%s: option '%s' is a %s, expected a file name (string)",
                   who, key, luaL_typename(L, -1));
    lua_pop(L, 1); // the string stays alive in the options table
    return s;
}

static int opt_bool(lua_State *L, const char *key, int dflt, const char *who) {
    int ty = lua_getfield(L, 1, key);
    int v = dflt;
    if (ty == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (ty != LUA_TNIL)
        luaL_error(L, "attn.tokenizer.%s: option '%s' is a %s, expected a boolean", who, key,
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* attn.tokenizer.bpe{vocab="vocab.json", merges="merges.txt"} */
static int l_bpe(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *vocab = opt_string(L, "vocab", "bpe", 1);
    const char *merges = opt_string(L, "merges", "bpe", 1);
    LTok *t = push_tok(L, K_BPE);
    Bpe *b;
    if (bpe_new(&b, vocab, merges))
        return lt_error(L);
    t->impl = b;
    return 1;
}

/* attn.tokenizer.wordpiece{vocab="vocab.txt", lowercase=true,
   strip_accents=(lowercase), unk="[UNK]", max_chars=100} */
static int l_wordpiece(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    WordPieceOptions o = wordpiece_defaults();
    const char *vocab = opt_string(L, "vocab", "wordpiece", 1);
    o.lowercase = opt_bool(L, "lowercase", 1, "wordpiece");
    o.strip_accents = opt_bool(L, "strip_accents", -1, "wordpiece");
    int ty = lua_getfield(L, 1, "unk");
    if (ty == LUA_TSTRING)
        o.unk = lua_tostring(L, -1);
    else if (ty != LUA_TNIL)
        return luaL_error(L, "attn.tokenizer.wordpiece: option 'unk' is a %s, expected a string",
                          luaL_typename(L, -1));
    lua_pop(L, 1);
    ty = lua_getfield(L, 1, "max_chars");
    if (ty != LUA_TNIL) {
        lua_Integer m = lua_tointeger(L, -1);
        if (!lua_isinteger(L, -1) || m < 1 || m > 1000000)
            return luaL_error(L, "attn.tokenizer.wordpiece: option 'max_chars' must be an "
                              "integer 1..1000000");
        o.max_chars = (int)m;
    }
    lua_pop(L, 1);
    LTok *t = push_tok(L, K_WORDPIECE);
    WordPiece *w;
    if (wordpiece_new(&w, vocab, &o))
        return lt_error(L);
    t->impl = w;
    return 1;
}

/* attn.tokenizer.chars() (ids = code points), chars{text=s} (vocabulary of
   the characters of s), chars{vocab={"a", "b", ...}} (id = position - 1);
   unk="?" names a token for characters outside a closed vocabulary. */
static int l_chars(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        LTok *t = push_tok(L, K_CHARS);
        CharTok *c;
        if (chartok_new_open(&c))
            return lt_error(L);
        t->impl = c;
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    int has_text = lua_getfield(L, 1, "text") != LUA_TNIL;
    int has_vocab = lua_getfield(L, 1, "vocab") != LUA_TNIL; // at 3
    int has_unk = lua_getfield(L, 1, "unk") != LUA_TNIL;     // at 4
    if (has_text == has_vocab)
        return luaL_error(L, "attn.tokenizer.chars: give either text= or vocab=, or no table");
    if (has_text && lua_type(L, 2) != LUA_TSTRING)
        return luaL_error(L, "attn.tokenizer.chars: text is a %s, expected a string",
                          luaL_typename(L, 2));
    if (has_vocab && !lua_istable(L, 3))
        return luaL_error(L, "attn.tokenizer.chars: vocab is a %s, expected a list of strings",
                          luaL_typename(L, 3));
    if (has_unk && lua_type(L, 4) != LUA_TSTRING)
        return luaL_error(L, "attn.tokenizer.chars: unk is a %s, expected a string",
                          luaL_typename(L, 4));
    Scratch *s = push_scratch(L); // at 5
    size_t n = has_vocab ? lua_rawlen(L, 3) : 0;
    if (has_vocab) {
        s->pieces = malloc((n ? n : 1) * sizeof *s->pieces);
        s->lens = malloc((n ? n : 1) * sizeof *s->lens);
        if (!s->pieces || !s->lens)
            return luaL_error(L, "attn.tokenizer.chars: out of memory");
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, 3, (lua_Integer)i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "attn.tokenizer.chars: vocab entry %d is a %s, expected a "
                                  "string", (int)i + 1, luaL_typename(L, -1));
            s->pieces[i] = lua_tolstring(L, -1, &s->lens[i]); // kept alive by the list
            lua_pop(L, 1);
        }
    }
    LTok *t = push_tok(L, K_CHARS);
    CharTok *c;
    size_t tlen;
    const char *text = has_text ? lua_tolstring(L, 2, &tlen) : NULL;
    int st = has_text ? chartok_new_from_text(&c, text, tlen)
                      : chartok_new_from_list(&c, s->pieces, s->lens, n);
    if (st)
        return lt_error(L);
    t->impl = c;
    size_t ulen;
    const char *unk = has_unk ? lua_tolstring(L, 4, &ulen) : NULL;
    if (unk && chartok_set_unk(c, unk, ulen))
        return lt_error(L);
    return 1;
}

/* ---- methods ------------------------------------------------------------------ */

static int encode_into(LTok *t, TokIds *ids, const char *s, size_t n) {
    if (t->kind == K_BPE)
        return bpe_encode(t->impl, ids, s, n);
    if (t->kind == K_WORDPIECE)
        return wordpiece_encode(t->impl, ids, s, n);
    return chartok_encode(t->impl, ids, s, n);
}

static void push_ids(lua_State *L, const TokIds *ids) {
    lua_createtable(L, (int)(ids->n < INT32_MAX ? ids->n : 0), 0);
    for (size_t i = 0; i < ids->n; i++) {
        lua_pushinteger(L, ids->ids[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* tok:encode(s) -> {id, ...} */
static int l_encode(lua_State *L) {
    LTok *t = check_tok(L, "encode");
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    Scratch *sc = push_scratch(L);
    if (encode_into(t, &sc->ids, s, n))
        return lt_error(L);
    push_ids(L, &sc->ids);
    return 1;
}

/* The ids argument at arg: a list of integers, or a 1-D tensor of them
   (converted through its table method). Read into sc->ids. */
static void read_ids(lua_State *L, int arg, Scratch *sc, const char *who) {
    if (lt_test(L, arg)) {
        lua_getfield(L, arg, "table");
        lua_pushvalue(L, arg);
        lua_call(L, 1, 1);
        lua_replace(L, arg);
    }
    if (!lua_istable(L, arg))
        luaL_argexpected(L, 0, arg, "list of token ids");
    size_t n = lua_rawlen(L, arg);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, arg, (lua_Integer)i + 1);
        int isnum;
        lua_Number x = lua_tonumberx(L, -1, &isnum);
        if (!isnum || x != floor(x) || x < -2147483648.0 || x > 2147483647.0)
            luaL_error(L, "tokenizer:%s: entry %d is %s, expected an integer token id", who,
                       (int)i + 1, isnum ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 1);
        if (tokids_push(&sc->ids, (int32_t)x))
            lt_error(L);
    }
}

/* Bytes of one token as it decodes (raw bytes; a wordpiece token as spelled). */
static int token_bytes(LTok *t, int64_t id, char buf[4], const char **p, size_t *n) {
    if (t->kind == K_BPE)
        return bpe_token_bytes(t->impl, id, p, n);
    if (t->kind == K_WORDPIECE)
        return wordpiece_token(t->impl, id, p, n);
    return chartok_token(t->impl, id, buf, p, n);
}

/* tok:decode(ids) -> string */
static int l_decode(lua_State *L) {
    LTok *t = check_tok(L, "decode");
    Scratch *sc = push_scratch(L);
    read_ids(L, 2, sc, "decode");
    int st = AT_OK;
    if (t->kind == K_WORDPIECE) {
        int64_t *wide = malloc((sc->ids.n ? sc->ids.n : 1) * sizeof *wide);
        if (!wide)
            return luaL_error(L, "tokenizer:decode: out of memory");
        for (size_t i = 0; i < sc->ids.n; i++)
            wide[i] = sc->ids.ids[i];
        st = wordpiece_decode(t->impl, &sc->text, wide, sc->ids.n);
        free(wide);
    } else {
        st = toktext_add(&sc->text, "", 0);
        for (size_t i = 0; i < sc->ids.n && !st; i++) {
            char buf[4];
            const char *p;
            size_t n;
            st = token_bytes(t, sc->ids.ids[i], buf, &p, &n);
            if (!st)
                st = toktext_add(&sc->text, p, n);
        }
    }
    if (st)
        return lt_error(L);
    lua_pushlstring(L, sc->text.s, sc->text.n);
    return 1;
}

/* tok:tokens(s) -> {string, ...}: the vocabulary's own spelling of each
   token ("Ġworld" for GPT-2, "##ing" for BERT). */
static int l_tokens(lua_State *L) {
    LTok *t = check_tok(L, "tokens");
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    Scratch *sc = push_scratch(L);
    if (encode_into(t, &sc->ids, s, n))
        return lt_error(L);
    lua_createtable(L, (int)(sc->ids.n < INT32_MAX ? sc->ids.n : 0), 0);
    for (size_t i = 0; i < sc->ids.n; i++) {
        int st;
        if (t->kind == K_BPE) {
            sc->text.n = 0;
            st = bpe_token_string(t->impl, &sc->text, sc->ids.ids[i]);
            if (!st)
                lua_pushlstring(L, sc->text.s ? sc->text.s : "", sc->text.n);
        } else {
            char buf[4];
            const char *p;
            size_t len;
            st = token_bytes(t, sc->ids.ids[i], buf, &p, &len);
            if (!st)
                lua_pushlstring(L, p, len);
        }
        if (st)
            return lt_error(L);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* tok:labels(ids or string) -> {string, ...}: display strings for heatmap
   labels, one per token (see tok_labels in chars.h). */
static int l_labels(lua_State *L) {
    LTok *t = check_tok(L, "labels");
    Scratch *sc = push_scratch(L);
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 2, &n);
        if (encode_into(t, &sc->ids, s, n))
            return lt_error(L);
    } else {
        read_ids(L, 2, sc, "labels");
    }
    size_t n = sc->ids.n ? sc->ids.n : 1;
    sc->pieces = malloc(n * sizeof *sc->pieces);
    sc->lens = malloc(n * sizeof *sc->lens);
    sc->offs = malloc(n * sizeof *sc->offs);
    // chars-tokenizer ids of the open vocabulary have no stored bytes: keep
    // them in one buffer that does not move once filled
    char (*bufs)[4] = lua_newuserdatauv(L, n * 4, 0);
    if (!sc->pieces || !sc->lens || !sc->offs)
        return luaL_error(L, "tokenizer:labels: out of memory");
    for (size_t i = 0; i < sc->ids.n; i++)
        if (token_bytes(t, sc->ids.ids[i], bufs[i], &sc->pieces[i], &sc->lens[i]))
            return lt_error(L);
    if (tok_labels(&sc->text, sc->offs, sc->pieces, sc->lens, sc->ids.n, t->kind != K_WORDPIECE))
        return lt_error(L);
    lua_createtable(L, (int)(sc->ids.n < INT32_MAX ? sc->ids.n : 0), 0);
    for (size_t i = 0; i < sc->ids.n; i++) {
        lua_pushstring(L, sc->text.s + sc->offs[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_vocab_size(lua_State *L) {
    LTok *t = check_tok(L, "vocab_size");
    int64_t n = t->kind == K_BPE         ? bpe_vocab_size(t->impl)
                : t->kind == K_WORDPIECE ? wordpiece_vocab_size(t->impl)
                                         : chartok_vocab_size(t->impl);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static int l_tostring(lua_State *L) {
    LTok *t = luaL_checkudata(L, 1, TOK_META);
    if (!t->impl) {
        lua_pushfstring(L, "Tokenizer(%s, closed)", kind_names[t->kind]);
        return 1;
    }
    lua_pushcfunction(L, l_vocab_size);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_pushfstring(L, "Tokenizer(%s, vocab_size=%I)", kind_names[t->kind],
                    lua_tointeger(L, -1));
    return 1;
}

static const luaL_Reg methods[] = {
    {"encode", l_encode}, {"decode", l_decode}, {"tokens", l_tokens},
    {"labels", l_labels}, {"vocab_size", l_vocab_size}, {NULL, NULL},
};

static const luaL_Reg metamethods[] = {
    {"__gc", tok_gc}, {"__close", tok_gc}, {"__tostring", l_tostring}, {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"bpe", l_bpe}, {"wordpiece", l_wordpiece}, {"chars", l_chars}, {NULL, NULL},
};

int luaopen_attn_tokenizer(lua_State *L) {
    luaL_newmetatable(L, SCRATCH_META);
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, TOK_META);
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}
