/*
 * json.c: the strict JSON parser of json.h.
 *
 * Recursive descent over the bytes, depth bounded by the caller's limit
 * (clamped to 1000 so the C stack stays small). Nodes go into one growing
 * array and are linked by index (first child, next sibling), so growing
 * the array never invalidates a link. Decoded strings go into an arena
 * sized once from the text length: a string decodes to at most as many
 * bytes as it has between its quotes, plus one NUL, which is less than
 * the two quotes it needed, so the arena can never overflow (see arena
 * use in parse_string).
 *
 * Duplicate keys are found with one hash set for the whole document keyed
 * by (object, key), so a 50k-member object costs O(n), not O(n^2).
 */
#include <config.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "json.h"

#define MAX_DEPTH_CAP 1000
#define MAX_NUMBER_CHARS 512

struct JsonDoc {
    JsonValue *nodes;
    size_t n, cap;
    char *arena;
    size_t used; // arena bytes in use
};

typedef struct {
    uint32_t parent, key, key_len; // key: arena offset
    uint32_t used;
} Slot;

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    JsonDoc *doc;
    int max_depth;
    Slot *set; // duplicate-key set: open addressing, power-of-two size
    size_t set_cap, set_used;
} Parser;

/* ---- error messages ------------------------------------------------------ */

/* What sits at pos, for "found ...". */
static const char *found(const Parser *p, size_t pos, char *buf, size_t size) {
    if (pos >= p->len)
        return "the end of the text";
    unsigned char c = p->s[pos];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, size, "a space");
    else
        snprintf(buf, size, "byte 0x%02x", c);
    return buf;
}

static int expected(const Parser *p, size_t pos, const char *what) {
    char buf[32];
    return at_error(AT_EFORMAT, "json: byte %zu: expected %s, found %s", pos, what,
                    found(p, pos, buf, sizeof buf));
}

static int bad(size_t pos, const char *what) {
    return at_error(AT_EFORMAT, "json: byte %zu: %s", pos, what);
}

/* ---- nodes --------------------------------------------------------------- */

static int new_node(Parser *p, JsonType type, uint32_t *idx) {
    JsonDoc *d = p->doc;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        if (cap > UINT32_MAX)
            return at_error(AT_ENOMEM, "json: too many values");
        JsonValue *nodes = realloc(d->nodes, cap * sizeof *nodes);
        if (!nodes)
            return at_error(AT_ENOMEM, "json: out of memory for %zu values", cap);
        d->nodes = nodes;
        d->cap = cap;
    }
    *idx = (uint32_t)d->n++;
    JsonValue *v = &d->nodes[*idx];
    memset(v, 0, sizeof *v);
    v->type = (uint32_t)type;
    return AT_OK;
}

static void skip_ws(Parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* ---- strings ------------------------------------------------------------- */

static int hex4(const Parser *p, size_t pos, uint32_t *out) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (pos + i >= p->len)
            return expected(p, pos + i, "4 hex digits after \\u");
        unsigned char c = p->s[pos + i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return expected(p, pos + i, "4 hex digits after \\u");
        v = v * 16 + (uint32_t)d;
    }
    *out = v;
    return AT_OK;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape at pos (the backslash), a surrogate pair joined; writes the
   UTF-8 at o, returns bytes written through *n and advances past it. */
static int unicode_escape(Parser *p, char *o, size_t *n) {
    size_t at = p->pos;
    uint32_t cp, lo;
    if (hex4(p, at + 2, &cp))
        return at_errcode();
    p->pos = at + 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return bad(at, "a low surrogate \\u escape without a high surrogate before it");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->pos + 1 >= p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return bad(at, "a high surrogate \\u escape not followed by a low surrogate");
        if (hex4(p, p->pos + 2, &lo))
            return at_errcode();
        if (lo < 0xdc00 || lo > 0xdfff)
            return bad(p->pos, "expected a low surrogate (\\uDC00-\\uDFFF) after a high one");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p->pos += 6;
    }
    *n = put_utf8(o, cp);
    return AT_OK;
}

/* Length of the valid UTF-8 sequence starting with lead byte c at pos (the
   ranges of Unicode Table 3-7: no overlongs, no surrogates, <= U+10FFFF),
   or 0 when invalid. */
static size_t utf8_seq(const Parser *p, size_t pos) {
    const unsigned char *s = p->s + pos;
    size_t left = p->len - pos;
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* The one-character escapes: \" \\ \/ \b \f \n \r \t. */
static int simple_escape(unsigned char c, char *out) {
    static const char in[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *q = c ? strchr(in, c) : NULL;
    if (!q)
        return 0;
    *out = to[q - in];
    return 1;
}

/* The string at pos (its opening quote) into the arena: *off, *len. */
static int parse_string(Parser *p, uint32_t *off, uint32_t *len) {
    size_t start = p->pos++;
    char *o = p->doc->arena + p->doc->used;
    size_t n = 0;
    for (;;) {
        // Runs of plain ASCII are the common case: copy them in one go.
        size_t run = p->pos;
        while (run < p->len && p->s[run] >= 0x20 && p->s[run] < 0x80 && p->s[run] != '"' &&
               p->s[run] != '\\')
            run++;
        memcpy(o + n, p->s + p->pos, run - p->pos);
        n += run - p->pos;
        p->pos = run;
        if (p->pos >= p->len) {
            char msg[80];
            snprintf(msg, sizeof msg, "unterminated string (it starts at byte %zu)", start);
            return bad(p->pos, msg);
        }
        unsigned char c = p->s[p->pos];
        if (c == '"')
            break;
        if (c < 0x20) {
            char msg[80];
            snprintf(msg, sizeof msg, "control character 0x%02x in a string (write it escaped)", c);
            return bad(p->pos, msg);
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(p, p->pos);
            if (!k)
                return bad(p->pos, "invalid UTF-8 in a string");
            memcpy(o + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        // a backslash
        if (p->pos + 1 >= p->len)
            return expected(p, p->pos + 1, "an escape character after '\\'");
        unsigned char e = p->s[p->pos + 1];
        if (e == 'u') {
            size_t k = 0;
            if (unicode_escape(p, o + n, &k))
                return at_errcode();
            n += k;
        } else if (simple_escape(e, o + n)) {
            n++;
            p->pos += 2;
        } else {
            return expected(p, p->pos + 1, "one of \" \\ / b f n r t u after '\\'");
        }
    }
    p->pos++; // the closing quote
    o[n] = '\0';
    *off = (uint32_t)p->doc->used;
    *len = (uint32_t)n;
    p->doc->used += n + 1;
    return AT_OK;
}

/* ---- duplicate keys -------------------------------------------------------- */

static uint32_t hash_key(uint32_t parent, const char *k, size_t n) {
    uint32_t h = 2166136261u ^ (parent * 0x9e3779b9u); // FNV-1a, seeded by the object
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

static int set_grow(Parser *p) {
    size_t cap = p->set_cap ? p->set_cap * 2 : 64;
    Slot *set = calloc(cap, sizeof *set);
    if (!set)
        return at_error(AT_ENOMEM, "json: out of memory for the key set");
    const char *a = p->doc->arena;
    for (size_t i = 0; i < p->set_cap; i++) {
        Slot *s = &p->set[i];
        if (!s->used)
            continue;
        size_t j = hash_key(s->parent, a + s->key, s->key_len) & (cap - 1);
        while (set[j].used)
            j = (j + 1) & (cap - 1);
        set[j] = *s;
    }
    free(p->set);
    p->set = set;
    p->set_cap = cap;
    return AT_OK;
}

/* Record key (arena off/len) in object parent; an error if already there. */
static int check_key(Parser *p, uint32_t parent, uint32_t off, uint32_t len, size_t pos) {
    if (2 * (p->set_used + 1) > p->set_cap && set_grow(p))
        return at_errcode();
    const char *a = p->doc->arena;
    size_t j = hash_key(parent, a + off, len) & (p->set_cap - 1);
    for (; p->set[j].used; j = (j + 1) & (p->set_cap - 1)) {
        const Slot *s = &p->set[j];
        if (s->parent == parent && s->key_len == len && !memcmp(a + s->key, a + off, len))
            return at_error(AT_EFORMAT, "json: byte %zu: duplicate key \"%.*s\" in an object", pos,
                            len > 200 ? 200 : (int)len, a + off);
    }
    p->set[j] = (Slot){parent, off, len, 1};
    p->set_used++;
    return AT_OK;
}

/* ---- numbers and literals ------------------------------------------------ */

static size_t digits(const Parser *p, size_t pos) {
    size_t i = pos;
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    return i - pos;
}

/* strtod on a copy; if the locale's decimal point is not '.', retry with
   it (strtod follows LC_NUMERIC, JSON never does). */
static double to_double(const char *text, size_t n) {
    char buf[MAX_NUMBER_CHARS + 1];
    memcpy(buf, text, n);
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if ((size_t)(end - buf) != n) {
        char *dot = strchr(buf, '.');
        const char *dp = localeconv()->decimal_point;
        if (dot && dp && dp[0] && !dp[1])
            *dot = dp[0];
        v = strtod(buf, &end);
    }
    return v;
}

static int parse_number(Parser *p, uint32_t idx) {
    size_t start = p->pos, i = p->pos;
    if (p->s[i] == '-')
        i++;
    size_t k = digits(p, i);
    if (!k)
        return expected(p, i, "a digit");
    if (p->s[i] == '0' && k > 1)
        return bad(i, "a number with a leading zero");
    i += k;
    if (i < p->len && p->s[i] == '.') {
        if (!(k = digits(p, ++i)))
            return expected(p, i, "a digit after the decimal point");
        i += k;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (!(k = digits(p, i)))
            return expected(p, i, "a digit in the exponent");
        i += k;
    }
    if (i - start > MAX_NUMBER_CHARS)
        return bad(start, "a number longer than 512 characters");
    double v = to_double((const char *)p->s + start, i - start);
    if (isinf(v))
        return bad(start, "a number too large for a double");
    p->doc->nodes[idx].u.num = v;
    p->pos = i;
    return AT_OK;
}

static int parse_literal(Parser *p, uint32_t *idx) {
    static const struct {
        const char *word;
        JsonType type;
    } lits[] = {{"true", JSON_TRUE}, {"false", JSON_FALSE}, {"null", JSON_NULL}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].word);
        if (p->len - p->pos >= n && !memcmp(p->s + p->pos, lits[i].word, n)) {
            p->pos += n;
            return new_node(p, lits[i].type, idx);
        }
    }
    return expected(p, p->pos, "a value (object, array, string, number, true, false, null)");
}

/* ---- containers ------------------------------------------------------------ */

static int parse_value(Parser *p, int depth, uint32_t *idx);

/* Link child after *last under parent idx. */
static void link_child(JsonDoc *d, uint32_t idx, uint32_t *last, uint32_t child) {
    if (*last)
        d->nodes[*last].next = child;
    else
        d->nodes[idx].u.kids.first = child;
    *last = child;
    d->nodes[idx].u.kids.count++;
}

static int parse_array(Parser *p, int depth, uint32_t idx) {
    uint32_t last = 0, child;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return AT_OK;
    }
    for (;;) {
        if (parse_value(p, depth, &child))
            return at_errcode();
        link_child(p->doc, idx, &last, child);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return AT_OK;
        }
        return expected(p, p->pos, "',' or ']' after an array element");
    }
}

static int parse_object(Parser *p, int depth, uint32_t idx) {
    uint32_t last = 0, child, key, key_len;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return AT_OK;
    }
    for (;;) {
        skip_ws(p);
        size_t at = p->pos;
        if (at >= p->len || p->s[at] != '"')
            return expected(p, at, "a string key");
        if (parse_string(p, &key, &key_len) || check_key(p, idx, key, key_len, at))
            return at_errcode();
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':')
            return expected(p, p->pos, "':' after an object key");
        p->pos++;
        if (parse_value(p, depth, &child))
            return at_errcode();
        p->doc->nodes[child].key = key;
        p->doc->nodes[child].key_len = key_len;
        link_child(p->doc, idx, &last, child);
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            return AT_OK;
        }
        return expected(p, p->pos, "',' or '}' after an object member");
    }
}

static int parse_container(Parser *p, int depth, uint32_t *idx) {
    int is_obj = p->s[p->pos] == '{';
    if (depth + 1 > p->max_depth) {
        char msg[80];
        snprintf(msg, sizeof msg, "nesting deeper than the limit of %d", p->max_depth);
        return bad(p->pos, msg);
    }
    if (new_node(p, is_obj ? JSON_OBJECT : JSON_ARRAY, idx))
        return at_errcode();
    return is_obj ? parse_object(p, depth + 1, *idx) : parse_array(p, depth + 1, *idx);
}

/* One value at p->pos (after whitespace) at nesting depth. */
static int parse_value(Parser *p, int depth, uint32_t *idx) {
    skip_ws(p);
    if (p->pos >= p->len)
        return expected(p, p->pos, "a value");
    unsigned char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, depth, idx);
    if (c == '"') {
        uint32_t off, len;
        if (new_node(p, JSON_STRING, idx) || parse_string(p, &off, &len))
            return at_errcode();
        p->doc->nodes[*idx].u.str.off = off;
        p->doc->nodes[*idx].u.str.len = len;
        return AT_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return new_node(p, JSON_NUMBER, idx) || parse_number(p, *idx) ? at_errcode() : AT_OK;
    return parse_literal(p, idx);
}

/* ---- entry points ---------------------------------------------------------- */

static int parse_doc(Parser *p) {
    uint32_t root;
    // A UTF-8 byte order mark may be ignored (RFC 8259, 8.1).
    if (p->len >= 3 && !memcmp(p->s, "\xef\xbb\xbf", 3))
        p->pos = 3;
    if (parse_value(p, 0, &root))
        return at_errcode();
    skip_ws(p);
    if (p->pos != p->len)
        return expected(p, p->pos, "the end of the text after the value");
    return AT_OK;
}

int json_parse(JsonDoc **out, const char *text, size_t len, const JsonLimits *lim) {
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : JSON_DEFAULT_BYTES;
    int max_depth = lim ? lim->max_depth : JSON_DEFAULT_DEPTH;
    *out = NULL;
    if (max_bytes > UINT32_MAX - 1)
        max_bytes = UINT32_MAX - 1;
    if (max_depth > MAX_DEPTH_CAP)
        max_depth = MAX_DEPTH_CAP;
    if (len > max_bytes)
        return at_error(AT_EINVAL, "json: a text of %zu bytes is over the limit of %zu", len,
                        max_bytes);
    if (!text && len)
        return at_error(AT_EINVAL, "json: no text");
    JsonDoc *d = calloc(1, sizeof *d);
    // The arena never needs more than the text's length (see the top).
    char *arena = d ? malloc(len + 1) : NULL;
    if (!arena) {
        free(d);
        return at_error(AT_ENOMEM, "json: out of memory for a text of %zu bytes", len);
    }
    d->arena = arena;
    Parser p = {(const unsigned char *)(text ? text : ""), len, 0, d, max_depth, NULL, 0, 0};
    int st = parse_doc(&p);
    free(p.set);
    if (st) {
        json_free(d);
        return st;
    }
    *out = d;
    return AT_OK;
}

void json_free(JsonDoc *doc) {
    if (!doc)
        return;
    free(doc->nodes);
    free(doc->arena);
    free(doc);
}

const JsonValue *json_root(const JsonDoc *doc) { return &doc->nodes[0]; }

JsonType json_type(const JsonValue *v) { return (JsonType)v->type; }

const char *json_type_name(JsonType t) {
    static const char *const names[] = {"null",   "false", "true",  "number",
                                        "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

static int is_container(const JsonValue *v) {
    return v->type == JSON_ARRAY || v->type == JSON_OBJECT;
}

const JsonValue *json_first(const JsonDoc *doc, const JsonValue *v) {
    return is_container(v) && v->u.kids.first ? &doc->nodes[v->u.kids.first] : NULL;
}

const JsonValue *json_next(const JsonDoc *doc, const JsonValue *v) {
    return v->next ? &doc->nodes[v->next] : NULL;
}

size_t json_count(const JsonValue *v) { return is_container(v) ? v->u.kids.count : 0; }

const char *json_key(const JsonDoc *doc, const JsonValue *member, size_t *len) {
    if (len)
        *len = member->key_len;
    return doc->arena + member->key;
}

const char *json_string(const JsonDoc *doc, const JsonValue *v, size_t *len) {
    if (v->type != JSON_STRING) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->u.str.len;
    return doc->arena + v->u.str.off;
}

double json_number(const JsonValue *v) { return v->type == JSON_NUMBER ? v->u.num : 0.0; }

const JsonValue *json_get(const JsonDoc *doc, const JsonValue *obj, const char *key) {
    if (obj->type != JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (const JsonValue *m = json_first(doc, obj); m; m = json_next(doc, m))
        if (m->key_len == n && !memcmp(doc->arena + m->key, key, n))
            return m;
    return NULL;
}

int json_integer(int64_t *out, const JsonValue *v, int64_t lo, int64_t hi) {
    const double exact = 9007199254740992.0; // 2^53
    if (v->type != JSON_NUMBER)
        return 0;
    double x = v->u.num;
    if (x != floor(x) || x >= exact || x <= -exact)
        return 0;
    int64_t i = (int64_t)x;
    if (i < lo || i > hi)
        return 0;
    *out = i;
    return 1;
}
