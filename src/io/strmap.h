/*
 * strmap.h: a hash map from byte strings to int32 values, for token
 * vocabularies (50k entries and more) and the BPE word cache.
 *
 * Open addressing with linear probing over a power-of-two slot array; keys
 * are copied into one growing arena, so a vocabulary costs a few large
 * allocations, not one per entry. Keys may hold any bytes, NUL included.
 * No deletion (vocabularies never shrink); strmap_clear empties it all.
 */
#ifndef AT_STRMAP_H
#define AT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct StrMapSlot {
    uint64_t hash; // 0 marks an empty slot (real hashes are forced nonzero)
    size_t off;    // key's offset in the arena
    uint32_t len;
    int32_t value;
} StrMapSlot;

typedef struct StrMap {
    StrMapSlot *slots;
    size_t cap, count; // cap is 0 or a power of two
    char *arena;
    size_t arena_len, arena_cap;
} StrMap;

/* A zeroed StrMap is empty and valid; strmap_free releases it (and leaves
   it empty again). */
void strmap_free(StrMap *m);
void strmap_clear(StrMap *m);
/* Insert key -> value, or, if key is present, leave it and store its
   value in *old (when old is not NULL). Returns AT_OK, or AT_ENOMEM with a
   message; *existed (if given) says whether the key was present. */
int strmap_put(StrMap *m, const char *key, size_t len, int32_t value, int *existed,
               int32_t *old);
/* 1 and *value when key is present, else 0. */
int strmap_get(const StrMap *m, const char *key, size_t len, int32_t *value);

#endif
