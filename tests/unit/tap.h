/*
 * tap.h: a tiny TAP producer for the C unit tests (header only).
 *
 *   plan(n); ok(cond, "name"); near(got, want, tol, "name"); skip("why");
 *   return tap_done();
 * near() compares with a tolerance relative to max(1, |want|).
 */
#ifndef AT_TAP_H
#define AT_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_count = 0, tap_failed = 0;

static inline void plan(int n) { printf("1..%d\n", n); }

static inline int ok(int cond, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_count);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond)
        tap_failed++;
    return cond;
}

static inline int near(double got, double want, double tol, const char *name) {
    double scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    int good = fabs(got - want) <= tol * scale;
    ok(good, "%s", name);
    if (!good)
        printf("#   got %.9g, expected %.9g (tolerance %.3g)\n", got, want, tol);
    return good;
}

static inline void skip(const char *why) { printf("ok %d # SKIP %s\n", ++tap_count, why); }

static inline int tap_done(void) {
    fflush(stdout);
    return tap_failed ? 1 : 0;
}

#endif
