/*
 * safetensors.h: read and write the safetensors format (Hugging Face).
 *
 * A file is: an 8-byte little-endian u64 N, N bytes of JSON (the header),
 * then the data. The header maps each tensor name to
 * {"dtype": "F32", "shape": [2,3], "data_offsets": [begin, end]} (offsets
 * relative to the data's start) and may hold "__metadata__": {str: str}.
 *
 * Reading maps the file (mmap) and validates everything before returning:
 * the header length (at most 100 MB, inside the file), the JSON (strict,
 * depth at most 8, no duplicate names), each entry's fields, the dtype, the
 * shape (at most AT_MAXDIM dims; numel x dtype size computed without
 * overflow and equal to end - begin), and the offsets (begin <= end <= data
 * length, and no two tensors' bytes overlap; gaps between tensors are
 * allowed). Each violation is an AT_EFORMAT error naming the file, the
 * tensor and the rule. After a successful open, reading a tensor cannot go
 * out of bounds. (A file truncated by another process while mapped would
 * still raise SIGBUS: mmap's one hazard, accepted for zero-copy loading.)
 *
 * Dtypes: F32, F16 and BF16 are the floating formats of checkpoints; F64,
 * I64 and I32 are read too, because real checkpoints carry integer buffers
 * (BERT's embeddings.position_ids is I64) and refusing the whole file for
 * them would refuse those checkpoints. Integers convert to float exactly up
 * to 2^24 in magnitude; a larger one is an error naming the tensor. The
 * other dtypes of the format (BOOL, U8, I8, I16, U16, U32, U64, F8_E4M3,
 * F8_E5M2) are validated (their sizes are known) but converting one to
 * float is an error naming the tensor and its dtype.
 *
 * Writing is F32 only, atomic: a temporary file in the target's folder,
 * fsync, rename over the target, fsync of the folder. The header is padded
 * with spaces so the data starts at a multiple of 8 bytes.
 */
#ifndef AT_SAFETENSORS_H
#define AT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/tensor.h"

typedef enum {
    ST_F32,
    ST_F16,
    ST_BF16,
    ST_F64,
    ST_I64,
    ST_I32,
    ST_BOOL, // known to the format, not convertible to float here
    ST_U8,
    ST_I8,
    ST_I16,
    ST_U16,
    ST_U32,
    ST_U64,
    ST_F8_E4M3,
    ST_F8_E5M2,
    ST_NDTYPES
} StDtype;

#define ST_MAX_HEADER 100000000 // bytes, as the reference implementation
#define ST_MAX_DEPTH 8

typedef struct StTensor {
    const char *name; // NUL-terminated, borrowed from the StFile
    StDtype dtype;
    int ndim;
    int64_t shape[AT_MAXDIM];
    int64_t numel;
    uint64_t begin, end;       // byte offsets in the data section
    const unsigned char *data; // begin's address in the mapping (unaligned)
} StTensor;

typedef struct StMeta {
    const char *key, *value; // NUL-terminated, borrowed from the StFile
} StMeta;

typedef struct StFile StFile;

/* Open and validate path. *out is a new StFile (close with
   safetensors_close) or NULL with a message. */
int safetensors_open(StFile **out, const char *path);
/* Validate an in-memory image (borrowed; must outlive the StFile). The
   path names it in messages. Used by open and by the fuzz target. */
int safetensors_parse(StFile **out, const void *bytes, size_t size, const char *path);
void safetensors_close(StFile *f); // NULL is a no-op

/* Tensors in header order; borrowed. */
size_t safetensors_count(const StFile *f);
const StTensor *safetensors_tensor(const StFile *f, size_t i);
/* The tensor called name, or NULL. */
const StTensor *safetensors_find(const StFile *f, const char *name);
size_t safetensors_meta_count(const StFile *f);
const StMeta *safetensors_meta(const StFile *f, size_t i);

const char *safetensors_dtype_name(StDtype d);
size_t safetensors_dtype_size(StDtype d);

/* t's values as floats into dst (t->numel of them), converting F16, BF16,
   F64, I64, I32; other dtypes are an error naming the tensor. */
int safetensors_read_f32(float *dst, const StFile *f, const StTensor *t);

/* One tensor to write: row-major float data of shape[0..ndim). */
typedef struct StWrite {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;
} StWrite;

/* Write n tensors (names unique, not "__metadata__", valid UTF-8) and
   n_meta key/value pairs of metadata to path, atomically. */
int safetensors_write(const char *path, const StWrite *ts, size_t n, const StMeta *meta,
                      size_t n_meta);

#endif
