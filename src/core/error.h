/*
 * error.h: the one error type of attnlab's C library.
 *
 * Functions below src/lua/ return an int status (AT_OK = 0) and record a
 * human-readable message with at_error(), which itself returns the status so
 * that each failure is one line:
 *
 *     if (k != k2) return at_error(AT_ESHAPE, "matmul: inner dims %d and %d", k, k2);
 *
 * The message lives in a thread-local buffer until the next at_error(); the
 * Lua binding layer reads it with at_errmsg() and raises it as a Lua error.
 */
#ifndef AT_ERROR_H
#define AT_ERROR_H

enum {
    AT_OK = 0,
    AT_EINVAL,  // an argument out of range or of the wrong kind
    AT_ESHAPE,  // shapes that do not fit together
    AT_ENOMEM,  // an allocation failed or a size is absurd
    AT_EDEVICE, // no such device, or operands on two devices
    AT_EINTR,   // stopped by Ctrl-C
    AT_EIO,     // a file could not be read or written
    AT_EFORMAT, // a file's contents are malformed
};

#if defined(__GNUC__)
#define AT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AT_PRINTF(f, a)
#endif

/* Record a message for status and return status. */
int at_error(int status, const char *fmt, ...) AT_PRINTF(2, 3);

/* The last message recorded on this thread (never NULL). Borrowed. */
const char *at_errmsg(void);

/* The last status recorded on this thread. */
int at_errcode(void);

#endif
