/*
 * strmap.c: byte-string -> int32 hash map (see strmap.h). The load factor
 * stays at or below 1/2, so probes are short and the loop always finds an
 * empty slot.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "strmap.h"

/* FNV-1a, 64-bit: simple and good enough for token strings; a zero result
   is remapped because 0 marks empty slots. */
static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

void strmap_free(StrMap *m) {
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

void strmap_clear(StrMap *m) {
    if (m->slots)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
    m->arena_len = 0;
}

static size_t find_slot(const StrMap *m, uint64_t h, const char *key, size_t len) {
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    for (;;) {
        const StrMapSlot *s = &m->slots[i];
        if (s->hash == 0 ||
            (s->hash == h && s->len == len && memcmp(m->arena + s->off, key, len) == 0))
            return i;
        i = (i + 1) & mask;
    }
}

static int grow_slots(StrMap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    StrMapSlot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return at_error(AT_ENOMEM, "out of memory for a table of %zu strings", cap / 2);
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].hash)
            continue;
        size_t j = (size_t)old[i].hash & (cap - 1);
        while (m->slots[j].hash)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
    return AT_OK;
}

static int arena_add(StrMap *m, const char *key, size_t len, size_t *off) {
    if (!m->arena || len > m->arena_cap - m->arena_len) { // an empty key needs an arena too
        size_t cap = m->arena_cap ? m->arena_cap : 1024;
        while (len > cap - m->arena_len) {
            if (cap > SIZE_MAX / 2)
                return at_error(AT_ENOMEM, "string table too large");
            cap *= 2;
        }
        char *a = realloc(m->arena, cap);
        if (!a)
            return at_error(AT_ENOMEM, "out of memory for a string table of %zu bytes", cap);
        m->arena = a;
        m->arena_cap = cap;
    }
    if (len)
        memcpy(m->arena + m->arena_len, key, len);
    *off = m->arena_len;
    m->arena_len += len;
    return AT_OK;
}

int strmap_put(StrMap *m, const char *key, size_t len, int32_t value, int *existed,
               int32_t *old) {
    if (len > UINT32_MAX)
        return at_error(AT_EINVAL, "string of %zu bytes too long for a table key", len);
    if (existed)
        *existed = 0;
    if ((m->count + 1) * 2 > m->cap) {
        int st = grow_slots(m);
        if (st)
            return st;
    }
    uint64_t h = hash_bytes(key, len);
    size_t i = find_slot(m, h, key, len);
    if (m->slots[i].hash) {
        if (existed)
            *existed = 1;
        if (old)
            *old = m->slots[i].value;
        return AT_OK;
    }
    size_t off = 0;
    int st = arena_add(m, key, len, &off);
    if (st)
        return st;
    m->slots[i] = (StrMapSlot){.hash = h, .off = off, .len = (uint32_t)len, .value = value};
    m->count++;
    return AT_OK;
}

int strmap_get(const StrMap *m, const char *key, size_t len, int32_t *value) {
    if (!m->cap || len > UINT32_MAX)
        return 0;
    size_t i = find_slot(m, hash_bytes(key, len), key, len);
    if (!m->slots[i].hash)
        return 0;
    *value = m->slots[i].value;
    return 1;
}
