/*
 * ptyrun.c: drive a program on a pseudo-terminal from a small script, for
 * the REPL tests.
 *
 *     ptyrun [-t SECONDS] SCRIPT -- COMMAND [ARG]...
 *
 * SCRIPT holds one step per line ('#' starts a comment line):
 *     expect TEXT   wait until TEXT appears in the output after the end of
 *                   the last match
 *     absent TEXT   TEXT is not in the output the last expect went over
 *     send TEXT     type TEXT
 *     sleep MS      wait MS milliseconds (output keeps being collected)
 *     exit N        wait until the command ends with exit status N
 * TEXT may use \r \n \t \e \a \\ and \xHH (\x03 is Ctrl-C, \x04 Ctrl-D,
 * \x20 a space that an editor would not strip from the end of a line).
 *
 * Output is matched after removing terminal escape sequences, carriage
 * returns and bells, so matches do not depend on how readline redraws.
 * Every wait has a deadline (-t, else $PTYRUN_TIMEOUT, else 10 s): a test
 * fails, it never hangs. On failure it prints the step, the reason and the
 * end of the output to stderr and exits 1; the command is killed.
 * It does not emulate a screen: text that readline redraws in place appears
 * once per drawing.
 */
#include <config.h>

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE // forkpty
#endif

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct Run {
    int fd;     // the pty master
    pid_t pid;  // the command, 0 once reaped
    int status; // its wait status once reaped
    int eof;    // the command closed the terminal
    char *out;  // cleaned output so far (NUL-terminated)
    size_t len, cap;
    size_t pos, prev; // end of the last match; where the last expect began
    int esc;          // escape-sequence state of the cleaner
    double timeout;   // seconds per step
} Run;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void out_add(Run *r, char c) {
    if (r->len + 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        char *p = realloc(r->out, cap);
        if (p == NULL) {
            fprintf(stderr, "ptyrun: out of memory\n");
            exit(1);
        }
        r->out = p;
        r->cap = cap;
    }
    r->out[r->len++] = c;
    r->out[r->len] = '\0';
}

/* Keep the text, drop CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \),
   other two- and three-byte escapes, carriage returns and bells. */
static void out_clean(Run *r, const char *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        switch (r->esc) {
        case 0:
            if (c == 0x1b)
                r->esc = 1;
            else if (c != '\r' && c != '\a' && c != '\0')
                out_add(r, (char)c);
            break;
        case 1: // after ESC
            r->esc = c == '[' ? 2 : c == ']' ? 3 : (c == '(' || c == ')') ? 4 : 0;
            break;
        case 2: // CSI parameters until a final byte
            if (c >= 0x40 && c <= 0x7e)
                r->esc = 0;
            break;
        case 3: // OSC until BEL or ESC backslash
            if (c == '\a')
                r->esc = 0;
            else if (c == 0x1b)
                r->esc = 4;
            break;
        default: // one more byte ends it
            r->esc = 0;
        }
    }
}

/* Collect output for up to ms milliseconds (returns early on new data). */
static void run_read(Run *r, int ms) {
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    char buf[4096];
    if (r->eof) {
        if (ms > 0)
            poll(NULL, 0, ms);
        return;
    }
    if (poll(&pfd, 1, ms) <= 0)
        return;
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n > 0)
        out_clean(r, buf, (size_t)n);
    else if (n == 0 || errno != EINTR)
        r->eof = 1; // Linux gives EIO once the command has closed the pty
}

/* Decode the escapes of TEXT into out (at least as long); returns length. */
static size_t unescape(const char *s, char *out) {
    static const char from[] = "rntea\\", to[] = "\r\n\t\x1b\a\\";
    size_t n = 0;
    for (; *s; s++) {
        const char *k;
        if (s[0] != '\\' || s[1] == '\0') {
            out[n++] = *s;
        } else if (s[1] == 'x' && s[2] && s[3]) {
            char hex[3] = {s[2], s[3], '\0'};
            out[n++] = (char)strtol(hex, NULL, 16);
            s += 3;
        } else if ((k = strchr(from, s[1])) != NULL) {
            out[n++] = to[k - from];
            s++;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return n;
}

static int step_expect(Run *r, const char *text) {
    double end = now() + r->timeout;
    for (;;) {
        char *hit = r->len > r->pos ? strstr(r->out + r->pos, text) : NULL;
        if (hit != NULL) {
            r->prev = r->pos;
            r->pos = (size_t)(hit - r->out) + strlen(text);
            return 1;
        }
        if (r->eof) {
            fprintf(stderr, "ptyrun: the command closed the terminal before printing \"%s\"\n",
                    text);
            return 0;
        }
        double left = end - now();
        if (left <= 0) {
            fprintf(stderr, "ptyrun: timeout waiting for \"%s\"\n", text);
            return 0;
        }
        run_read(r, left > 0.1 ? 100 : (int)(left * 1000) + 1);
    }
}

static int step_absent(Run *r, const char *text) {
    char saved = r->out[r->pos];
    r->out[r->pos] = '\0';
    int found = strstr(r->out + r->prev, text) != NULL;
    r->out[r->pos] = saved;
    if (found)
        fprintf(stderr, "ptyrun: \"%s\" appeared but should not have\n", text);
    return !found;
}

static int step_send(Run *r, const char *text, size_t n) {
    while (n > 0) {
        ssize_t k = write(r->fd, text, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            fprintf(stderr, "ptyrun: cannot type into the terminal\n");
            return 0;
        }
        text += k;
        n -= (size_t)k;
    }
    return 1;
}

static void step_sleep(Run *r, int ms) {
    double end = now() + ms / 1000.0;
    for (double left = ms / 1000.0; left > 0; left = end - now())
        run_read(r, (int)(left * 1000) + 1);
}

/* Wait for the command to end (reading its output) and check its status. */
static int step_exit(Run *r, int want) {
    double end = now() + r->timeout;
    while (r->pid != 0 && now() < end) {
        pid_t w = waitpid(r->pid, &r->status, WNOHANG);
        if (w == r->pid)
            r->pid = 0;
        else
            run_read(r, 50);
    }
    if (r->pid != 0) {
        fprintf(stderr, "ptyrun: timeout waiting for the command to exit\n");
        return 0;
    }
    int got = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
    if (got != want)
        fprintf(stderr, "ptyrun: exit status %d, expected %d\n", got, want);
    return got == want;
}

/* One script line; returns 0 on failure. */
static int run_step(Run *r, char *line) {
    char text[4096];
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
        return 1;
    char *arg = strchr(line, ' ');
    arg = arg ? arg + 1 : line + strlen(line);
    if (strlen(arg) >= sizeof text) {
        fprintf(stderr, "ptyrun: line too long\n");
        return 0;
    }
    size_t n = unescape(arg, text);
    if (!strncmp(line, "expect ", 7))
        return step_expect(r, text);
    if (!strncmp(line, "absent ", 7))
        return step_absent(r, text);
    if (!strncmp(line, "send ", 5))
        return step_send(r, text, n);
    if (!strncmp(line, "sleep ", 6)) {
        step_sleep(r, atoi(arg));
        return 1;
    }
    if (!strncmp(line, "exit ", 5))
        return step_exit(r, atoi(arg));
    fprintf(stderr, "ptyrun: unknown step\n");
    return 0;
}

/* Print the end of the output, each line prefixed so it reads clearly in
   the test log. */
static void dump_output(const Run *r) {
    size_t from = r->len > 3000 ? r->len - 3000 : 0;
    fprintf(stderr, "ptyrun: output so far (last %zu bytes; match position %zu):\n| ",
            r->len - from, r->pos);
    for (size_t i = from; i < r->len; i++) {
        fputc(r->out[i], stderr);
        if (r->out[i] == '\n')
            fputs("| ", stderr);
    }
    fputc('\n', stderr);
}

static pid_t spawn(char **argv, int *fd) {
    struct winsize ws = {.ws_row = 30, .ws_col = 120};
    pid_t pid = forkpty(fd, NULL, NULL, &ws);
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "ptyrun: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

int main(int argc, char **argv) {
    Run r = {.fd = -1};
    const char *env = getenv("PTYRUN_TIMEOUT");
    int a = 1;
    r.timeout = env ? atof(env) : 10.0;
    if (a + 1 < argc && !strcmp(argv[a], "-t")) {
        r.timeout = atof(argv[a + 1]);
        a += 2;
    }
    if (argc - a < 3 || strcmp(argv[a + 1], "--") != 0 || r.timeout <= 0) {
        fprintf(stderr, "usage: ptyrun [-t SECONDS] SCRIPT -- COMMAND [ARG]...\n");
        return 2;
    }
    FILE *script = fopen(argv[a], "r");
    if (script == NULL) {
        fprintf(stderr, "ptyrun: cannot open %s: %s\n", argv[a], strerror(errno));
        return 2;
    }
    r.pid = spawn(argv + a + 2, &r.fd);
    if (r.pid < 0) {
        fprintf(stderr, "ptyrun: forkpty: %s\n", strerror(errno));
        fclose(script);
        return 1;
    }
    char line[4096];
    int ok = 1, lineno = 0;
    while (ok && fgets(line, sizeof line, script) != NULL) {
        lineno++;
        ok = run_step(&r, line);
        if (!ok)
            fprintf(stderr, "ptyrun: %s:%d: step failed: %s\n", argv[a], lineno, line);
    }
    fclose(script);
    if (!ok)
        dump_output(&r);
    if (r.pid != 0) {
        kill(r.pid, SIGKILL);
        waitpid(r.pid, &r.status, 0);
    }
    close(r.fd);
    free(r.out);
    return ok ? 0 : 1;
}
