/*
 * interrupt.c: the process-wide Ctrl-C flag (see interrupt.h).
 */
#include <config.h>

#include <signal.h>

#include "error.h"
#include "interrupt.h"

static volatile sig_atomic_t interrupt_flag = 0;

void at_interrupt_raise(void) { interrupt_flag = 1; }

void at_interrupt_clear(void) { interrupt_flag = 0; }

int at_interrupted(void) { return interrupt_flag != 0; }

int at_check_interrupt(const char *who) {
    if (!interrupt_flag)
        return 0;
    at_error(AT_EINTR, "%s: interrupted", who);
    return 1;
}
