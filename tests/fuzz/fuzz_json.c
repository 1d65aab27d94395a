/*
 * fuzz_json.c: libFuzzer target for the JSON parser (make fuzz).
 *
 * Any input must either parse or fail with a "json: " message; a parsed
 * tree is walked through every accessor and checked against the
 * invariants of json.h: child counts match the links, strings are
 * NUL-terminated at their length, and (no duplicate keys) looking a key
 * up finds the member it came from. Sanitizers catch the rest.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
    if (!cond)
        abort(); // an invariant broke: libFuzzer reports the input
}

static void walk(const JsonDoc *d, const JsonValue *v) {
    size_t len, n = 0;
    const char *s;
    switch (json_type(v)) {
    case JSON_STRING:
        s = json_string(d, v, &len);
        check(s != NULL && s[len] == '\0');
        return;
    case JSON_ARRAY:
    case JSON_OBJECT:
        for (const JsonValue *c = json_first(d, v); c; c = json_next(d, c), n++) {
            if (json_type(v) == JSON_OBJECT) {
                const char *k = json_key(d, c, &len);
                check(k[len] == '\0');
                if (strlen(k) == len)
                    check(json_get(d, v, k) == c);
            }
            walk(d, c);
        }
        check(n == json_count(v));
        return;
    case JSON_NUMBER: {
        int64_t i;
        double x = json_number(v);
        check(x == x);
        if (json_integer(&i, v, INT64_MIN, INT64_MAX))
            check((double)i == x);
        return;
    }
    default:
        check(json_count(v) == 0 && json_first(d, v) == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    JsonDoc *d = NULL;
    JsonLimits lim = {64, 1 << 20};
    if (json_parse(&d, (const char *)data, size, &lim)) {
        check(d == NULL && !strncmp(at_errmsg(), "json: ", 6));
        return 0;
    }
    walk(d, json_root(d));
    json_free(d);
    return 0;
}
