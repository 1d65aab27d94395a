/*
 * error.c: the thread-local last-error message (see error.h).
 *
 * One buffer per thread, overwritten by each at_error(); messages longer
 * than the buffer are cut, never overflowed.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static _Thread_local char last_message[512] = "no error";
static _Thread_local int last_status = AT_OK;

int at_error(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_status = status;
    return status;
}

const char *at_errmsg(void) { return last_message; }

int at_errcode(void) { return last_status; }
