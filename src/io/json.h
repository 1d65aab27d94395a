/*
 * json.h: a small strict JSON parser (RFC 8259) into a read-only tree.
 *
 * Used for safetensors headers, config.json and vocab.json. The whole text
 * is parsed at once into a JsonDoc: one array of nodes and one arena of
 * decoded strings (each NUL-terminated; escapes resolved, \uXXXX surrogate
 * pairs joined into UTF-8). Three allocations for any document, so a 50k
 * entry vocab.json costs no per-entry malloc.
 *
 * Strict means: exactly the RFC grammar (no comments, no trailing commas,
 * no single quotes, no NaN/Infinity, no leading zeros or '+'); strings must
 * be valid UTF-8 with control characters escaped; an escaped lone surrogate
 * is an error; a number too large for a double is an error; nothing but
 * whitespace may follow the value. Duplicate keys in one object are an
 * error (a safetensors file with two tensors of one name is malformed, and
 * a config that says two things is ambiguous). A leading UTF-8 byte order
 * mark is skipped, as RFC 8259 section 8.1 permits.
 *
 * Limits (JsonLimits; NULL gives the defaults): nesting depth (default 64)
 * and text size (default 1 GiB, at most 4 GiB - 1 since offsets are 32-bit);
 * numbers longer than 512 characters are refused.
 *
 * Errors: json_parse returns AT_EFORMAT (AT_ENOMEM, AT_EINVAL for limits)
 * through at_error with "json: byte N: <what was expected>, found <what>".
 */
#ifndef AT_JSON_H
#define AT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} JsonType;

/* A node. Treat as opaque: read it through the functions below. */
typedef struct JsonValue {
    uint32_t type;
    uint32_t key, key_len; // object members: the key in the arena
    uint32_t next;         // next sibling's node index, 0 for none
    union {
        double num;
        struct {
            uint32_t off, len;
        } str;
        struct {
            uint32_t first, count; // first child's index (0 if none)
        } kids;
    } u;
} JsonValue;

typedef struct JsonDoc JsonDoc;

typedef struct JsonLimits {
    int max_depth;    // containers nested deeper than this are an error
    size_t max_bytes; // a longer text is an error
} JsonLimits;

#define JSON_DEFAULT_DEPTH 64
#define JSON_DEFAULT_BYTES ((size_t)1 << 30)

/* Parse text[0..len) (need not be NUL-terminated). On success *out is a
   new document (free with json_free); on failure *out is NULL and the
   status comes with a message naming the byte offset. */
int json_parse(JsonDoc **out, const char *text, size_t len, const JsonLimits *lim);
void json_free(JsonDoc *doc); // NULL is a no-op

/* All pointers below are borrowed from doc and live until json_free. */
const JsonValue *json_root(const JsonDoc *doc);
JsonType json_type(const JsonValue *v);
const char *json_type_name(JsonType t); // "null", "number", "object", ...
/* Children of an array or object, in text order: first, then next until
   NULL. NULL for scalars and empty containers. */
const JsonValue *json_first(const JsonDoc *doc, const JsonValue *v);
const JsonValue *json_next(const JsonDoc *doc, const JsonValue *v);
/* Number of children of an array or object; 0 for scalars. */
size_t json_count(const JsonValue *v);
/* An object member's key (NUL-terminated; *len, if given, counts bytes). */
const char *json_key(const JsonDoc *doc, const JsonValue *member, size_t *len);
/* A string's bytes (NUL-terminated; may hold NULs from \u0000: use *len). */
const char *json_string(const JsonDoc *doc, const JsonValue *v, size_t *len);
double json_number(const JsonValue *v);
/* The member of object obj with key (NUL-terminated), or NULL. Linear in
   the object's size: for big objects, iterate instead. */
const JsonValue *json_get(const JsonDoc *doc, const JsonValue *obj, const char *key);
/* Whether v is a number holding an integer in [lo, hi] and below 2^53 in
   magnitude; stores it in *out when so. From 2^53 on, doubles no longer
   hold every integer, so a text such as 9007199254740993 would silently
   read as its neighbour: refused instead. */
int json_integer(int64_t *out, const JsonValue *v, int64_t lo, int64_t hi);

#endif
