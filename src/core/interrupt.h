/*
 * interrupt.h: the Ctrl-C flag that long computations poll.
 *
 * The SIGINT handler only calls at_interrupt_raise() (async-signal-safe: it
 * stores to a volatile sig_atomic_t). Long C loops call at_interrupted()
 * once per row or tile and return AT_EINTR when it is set; the REPL clears
 * the flag before running each command.
 */
#ifndef AT_INTERRUPT_H
#define AT_INTERRUPT_H

void at_interrupt_raise(void);
void at_interrupt_clear(void);
int at_interrupted(void);

/* at_interrupted() that also records the AT_EINTR message when set:
   `if (at_check_interrupt("matmul")) return AT_EINTR;` */
int at_check_interrupt(const char *who);

#endif
