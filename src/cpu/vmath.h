/*
 * vmath.h: exp and friends on eight floats at a time, for the kernels whose
 * libm calls would be opaque to the vectoriser (softmax terms, GELU).
 *
 * GCC/clang vector types, not intrinsics: the same code builds everywhere,
 * and inside a HOT function (an AVX2+FMA clone picked at load time) each
 * v8 is one AVX register. The helpers are always inlined: passing a 32-byte
 * vector by value to an outlined function would change the calling
 * convention between the AVX clone and the baseline code.
 */
#ifndef AT_CPU_VMATH_H
#define AT_CPU_VMATH_H

#include <stdint.h>
#include <string.h>

/* Hot loops get an AVX2+FMA clone where the CPU has it (picked at load
   time through an ifunc), and the baseline x86-64 code elsewhere. Under
   -std=c11 GCC keeps a * b + c as two roundings; these loops want the
   fused multiply-add (twice the arithmetic per cycle, one rounding). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT                                                                                  \
    __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define HOT
#endif

#define VINLINE static inline __attribute__((always_inline))

// The ABI note GCC gives for a vector-returning function is moot for
// these: always inlined, they have no calling convention.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));

// Macros, for the same calling-convention reason.
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8))
#define STORE8(p, v) memcpy((p), &(v), sizeof(v8))

/* Lane by lane: mask ? a : b (C has no vector ?:). */
VINLINE v8 v8_select(v8i mask, v8 a, v8 b) { return (v8)(((v8i)a & mask) | ((v8i)b & ~mask)); }

/*
 * e^x: range reduction x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so
 * n ln2 is exact), a degree-6 Taylor polynomial for e^r (below 2e-7
 * relative on that interval), then 2^n through the exponent bits. x is
 * clamped to [-87, 88]: below, the result flushes to 0 as expf's underflow
 * would; above, it stays finite (e^88 = 1.65e38) instead of inf, which the
 * callers (sigmoid-like forms) prefer. n is rounded by adding 1.5 * 2^23,
 * valid since |x log2 e| < 2^22.
 */
VINLINE v8 v8_exp(v8 x) {
    const v8 zero = {0};
    v8i under = x < zero - 87.0f, over = x > zero + 88.0f;
    x = v8_select(over, zero + 88.0f, x);
    x = v8_select(under, zero - 87.0f, x);
    v8 n = (x * 1.44269504f + (zero + 12582912.0f)) - 12582912.0f;
    v8 r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    v8 p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f +
                                     r * (8.3333338e-3f + r * 1.3888889e-3f)))));
    v8i bits = (v8i)p + (v8i)((v8u)__builtin_convertvector(n, v8i) << 23);
    return (v8)(bits & ~under);
}

/* The same steps on one float, for loop tails. */
VINLINE float f_exp(float x) {
    if (x < -87.0f)
        return 0.0f;
    x = x > 88.0f ? 88.0f : x;
    float n = __builtin_floorf(x * 1.44269504f + 0.5f);
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f +
                                                  r * (8.3333338e-3f + r * 1.3888889e-3f)))));
    union { float f; int32_t i; } bits = {.f = p};
    bits.i += (int32_t)((uint32_t)(int32_t)n << 23); // n < 0: shift as unsigned (no UB)
    return bits.f;
}

#endif
