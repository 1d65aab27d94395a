/*
 * repl.c: the interactive loop, and running chunks with tracebacks for it
 * and for the command line.
 *
 * One thread does everything. Readline's callback interface is fed from a
 * poll() on stdin with a 16 ms timeout, and attn_lua_idle runs in between,
 * so windows stay live while the user types. A finished line is handed
 * over by on_line(), which only stores it and removes the handler; the loop
 * then runs the code with the terminal in its normal mode and installs the
 * handler again with the right prompt. Doing the work outside readline's
 * callback keeps the prompt from being drawn before the output.
 *
 * Ctrl-C: the SIGINT handler (no SA_RESTART, so poll() wakes up) sets a
 * flag and the Lua hook of attn_lua_interrupt(). Running code stops with
 * "interrupted"; at the prompt the loop sees the flag and clears the line.
 * Both flag and hook are cleared before each run, so a Ctrl-C at the
 * prompt never stops the next command.
 *
 * Input is tried as `return <input>` first (results are printed through
 * attn.pretty), then as statements; when either fails only because the
 * input ended early (the syntax error names <eof>), more lines are read.
 */
#include <config.h>

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lualib.h>

#include "complete.h"
#include "lua/attn_lua.h"
#include "repl.h"

#define PROMPT1 "attn> "
#define PROMPT2 " ...> "
#define CHUNKNAME "=stdin"
#define HISTORY_MAX 1000
#define POLL_MS 16
#define LOAD_MORE (-1) // chunk_load: the input is unfinished

static const char *const repl_commands[] = {".help", ".time", ".quit", NULL};

static struct {
    lua_State *L;
    char *chunk; // the unfinished multi-line input, or NULL
    char *line;  // the line handed over by on_line (NULL with eof)
    int have_line, done, timing;
    char *history_file;
} repl;

static lua_State *sig_L;                // the state the handler interrupts
static int sig_interactive;             // REPL (1) or script (0)
static volatile sig_atomic_t sig_int;   // a Ctrl-C not yet acted on
static volatile sig_atomic_t sig_winch; // the terminal changed size

/* ---- signals ----------------------------------------------------------- */

static void on_sigint(int sig) {
    if (!sig_interactive && sig_int) {
        // A script did not stop on the first Ctrl-C: stop it the hard way.
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    sig_int = 1;
    if (sig_L != NULL)
        attn_lua_interrupt(sig_L);
}

static void on_sigwinch(int sig) {
    (void)sig;
    sig_winch = 1;
}

void repl_signals_install(lua_State *L, int interactive) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: poll() and read() return EINTR
    sa.sa_handler = L != NULL ? on_sigint : SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sig_L = L;
    sig_interactive = interactive;
    sa.sa_handler = L != NULL && interactive ? on_sigwinch : SIG_DFL;
    sigaction(SIGWINCH, &sa, NULL);
}

/* ---- running code ------------------------------------------------------ */

/* Drop the last traceback line, "[C]: in ?": the C code that called the
   chunk, of no interest to the user. */
static void traceback_trim(lua_State *L) {
    static const char tail[] = "\n\t[C]: in ?";
    size_t len, n = sizeof tail - 1;
    const char *tb = lua_tolstring(L, -1, &len);
    if (tb != NULL && len >= n && memcmp(tb + len - n, tail, n) == 0) {
        lua_pushlstring(L, tb, len - n);
        lua_remove(L, -2);
    }
}

/* Message handler: the error as text (through __tostring for objects that
   have one) followed by a traceback. */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    traceback_trim(L);
    return 1;
}

int repl_pcall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    sig_int = 0;
    attn_lua_interrupt_clear(L);
    int status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    return status;
}

void repl_report(lua_State *L, const char *prefix) {
    const char *msg = lua_tostring(L, -1);
    if (sig_int && sig_interactive)
        msg = "\ninterrupted"; // off the line where the terminal echoed ^C
    else if (sig_int)
        msg = "interrupted"; // the position and traceback are noise here
    else if (msg == NULL)
        msg = "(error object is not a string)";
    fflush(stdout);
    if (prefix != NULL)
        fprintf(stderr, "%s: ", prefix);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
}

/* Protected: turn each argument into text with attn.pretty.show and print
   them on one line, or one per line when any spans several lines. */
static int print_values(lua_State *L) {
    int n = lua_gettop(L), multiline = 0;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "attn.pretty");
    lua_call(L, 1, 1);
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "show");
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "attn.pretty has no show function");
    int show = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, show);
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "attn.pretty.show returned a %s", luaL_typename(L, -1));
        lua_replace(L, i);
        multiline |= strchr(lua_tostring(L, i), '\n') != NULL;
    }
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = lua_tolstring(L, i, &len);
        fwrite(s, 1, len, stdout);
        putchar(i < n ? (multiline ? '\n' : '\t') : '\n');
    }
    return 0;
}

void repl_print_values(lua_State *L, int n) {
    if (n <= 0)
        return;
    // Results of a call fill the stack to the brim (Lua adds no room).
    if (!lua_checkstack(L, LUA_MINSTACK)) {
        lua_pop(L, n);
        fprintf(stderr, "%d results: too many to print\n", n);
        return;
    }
    lua_pushcfunction(L, print_values);
    lua_insert(L, -(n + 1));
    if (repl_pcall(L, n, 0) != LUA_OK)
        repl_report(L, NULL);
    fflush(stdout);
}

/* ---- chunks ------------------------------------------------------------ */

/* Whether the syntax error at the top means "the input ended too early". */
static int load_incomplete(lua_State *L, int status) {
    static const char mark[] = "<eof>";
    size_t len, n = sizeof mark - 1;
    const char *msg = lua_tolstring(L, -1, &len);
    return status == LUA_ERRSYNTAX && msg && len >= n && !strcmp(msg + len - n, mark);
}

/* Compile code as `return code`, else as statements (a leading '=' means
   return). Returns LUA_OK with the function pushed, LOAD_MORE with nothing
   pushed, or an error status with the message pushed. */
static int chunk_load(lua_State *L, const char *code) {
    int eq = code[0] == '=';
    lua_pushfstring(L, "return %s", code + eq);
    int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), CHUNKNAME);
    lua_remove(L, -2);
    if (status == LUA_OK)
        return LUA_OK;
    int more = load_incomplete(L, status);
    if (eq && !more)
        return status;
    lua_pop(L, 1);
    if (eq)
        return LOAD_MORE;
    status = luaL_loadbuffer(L, code, strlen(code), CHUNKNAME);
    if (status == LUA_OK)
        return LUA_OK;
    if (more || load_incomplete(L, status)) {
        lua_pop(L, 1);
        return LOAD_MORE;
    }
    return status;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run the function at the top; print its results or its error. */
static void chunk_run(lua_State *L) {
    int base = lua_gettop(L) - 1;
    double t0 = now_seconds();
    int status = repl_pcall(L, 0, LUA_MULTRET);
    double dt = now_seconds() - t0;
    if (status == LUA_OK)
        repl_print_values(L, lua_gettop(L) - base);
    else
        repl_report(L, NULL);
    if (repl.timing && dt < 1.0)
        printf("time: %.3f ms\n", dt * 1e3);
    else if (repl.timing)
        printf("time: %.3f s\n", dt);
    fflush(stdout);
    lua_settop(L, base);
}

/* ---- history ----------------------------------------------------------- */

/* $ATTNLAB_HISTORY, else ~/.attnlab_history; NULL (no history) without
   either. A new string. */
static char *history_path(void) {
    const char *env = getenv("ATTNLAB_HISTORY");
    if (env != NULL && env[0] != '\0')
        return strdup(env);
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return NULL;
    size_t n = strlen(home) + sizeof "/.attnlab_history";
    char *path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s/.attnlab_history", home);
    return path;
}

static void history_start(void) {
    // A multi-line chunk stays one entry: each entry is written after a
    // "#<time>" line, and reading joins the lines up to the next such line.
    history_comment_char = '#';
    history_write_timestamps = 1;
    history_multiline_entries = 1;
    using_history();
    stifle_history(HISTORY_MAX);
    repl.history_file = history_path();
    if (repl.history_file == NULL)
        return;
    // Private from the start: the history may hold data or tokens.
    int fd = open(repl.history_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        close(fd);
    read_history(repl.history_file);
}

/* Add an entry unless it repeats the previous one. It is appended to the
   file at once, so a session that dies still leaves its history. */
static void history_add(const char *entry) {
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last != NULL && strcmp(last->line, entry) == 0)
        return;
    add_history(entry);
    if (repl.history_file != NULL)
        append_history(1, repl.history_file);
}

/* Rewrite the file from memory: this caps it at HISTORY_MAX entries. */
static void history_finish(void) {
    if (repl.history_file != NULL)
        write_history(repl.history_file);
    clear_history();
    free(repl.history_file);
    repl.history_file = NULL;
}

/* ---- REPL commands ----------------------------------------------------- */

static void command_help(void) {
    fputs("REPL commands:\n"
          "  .help           this text\n"
          "  .time [on|off]  print the wall time of each command (no argument: toggle)\n"
          "  .quit           leave the REPL (as Ctrl-D does)\n"
          "Input: an expression prints its value (a leading = also means \"return\");\n"
          "unfinished input continues on the next line at the \" ...> \" prompt.\n"
          "Keys: Tab completes names, fields and methods (attn.ze<Tab>, x:soft<Tab>);\n"
          "Up/Down and Ctrl-R search the history; Ctrl-C stops running code or\n"
          "clears the line; Ctrl-D on an empty line quits.\n"
          "help(x) describes a function or module of attn; help() lists them.\n",
          stdout);
}

static void command_time(const char *arg) {
    if (arg[0] == '\0')
        repl.timing = !repl.timing;
    else if (!strcmp(arg, "on") || !strcmp(arg, "off"))
        repl.timing = !strcmp(arg, "on");
    else {
        fprintf(stderr, ".time: expected on or off, got '%s'\n", arg);
        return;
    }
    printf("timing is %s\n", repl.timing ? "on" : "off");
}

/* Run line when it is a REPL command: '.' then a letter, which no Lua
   chunk starts with (".5" is a number). Returns whether it was one. */
static int command_run(const char *line) {
    char cmd[16] = "", arg[16] = "", extra;
    if (line[0] != '.' || !((line[1] | 32) >= 'a' && (line[1] | 32) <= 'z'))
        return 0;
    int n = sscanf(line, "%15s %15s %c", cmd, arg, &extra);
    if (!strcmp(cmd, ".help") && n == 1)
        command_help();
    else if (!strcmp(cmd, ".time") && n <= 2)
        command_time(arg);
    else if ((!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit")) && n == 1)
        repl.done = 1;
    else
        fprintf(stderr, "unknown REPL command '%s' (.help lists them)\n", line);
    fflush(stdout);
    return 1;
}

/* ---- the loop ---------------------------------------------------------- */

static void chunk_drop(void) {
    free(repl.chunk);
    repl.chunk = NULL;
}

/* Append line to the unfinished chunk; 0 when memory runs out. */
static int chunk_append(const char *line) {
    size_t old = repl.chunk ? strlen(repl.chunk) + 1 : 0, len = strlen(line);
    char *p = realloc(repl.chunk, old + len + 1);
    if (p == NULL)
        return 0;
    if (old > 0)
        p[old - 1] = '\n';
    memcpy(p + old, line, len + 1);
    repl.chunk = p;
    return 1;
}

/* readline hands over a finished line (NULL at end of input). */
static void on_line(char *line) {
    rl_callback_handler_remove();
    repl.line = line;
    repl.have_line = 1;
}

/* readline's terminal mode plus NOFLSH. Without it a Ctrl-C makes the
   terminal discard pending input, which poll() may just have reported:
   readline's read() would then block until the next key. */
static void term_prep(int meta) {
    struct termios t;
    rl_prep_terminal(meta);
    if (tcgetattr(STDIN_FILENO, &t) == 0 && !(t.c_lflag & NOFLSH)) {
        t.c_lflag |= NOFLSH;
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
}

static void prompt_show(void) {
    rl_callback_handler_install(repl.chunk ? PROMPT2 : PROMPT1, on_line);
}

static int line_blank(const char *line) { return line[strspn(line, " \t\r\n")] == '\0'; }

static void line_handle(const char *line) {
    if (line == NULL) { // Ctrl-D on an empty line
        putchar('\n');
        repl.done = 1;
        return;
    }
    if (repl.chunk == NULL && (line_blank(line) || command_run(line))) {
        if (!line_blank(line))
            history_add(line);
        return;
    }
    if (!chunk_append(line)) {
        fputs("out of memory: input dropped\n", stderr);
        chunk_drop();
        return;
    }
    int status = chunk_load(repl.L, repl.chunk);
    if (status == LOAD_MORE)
        return;
    history_add(repl.chunk);
    if (status == LUA_OK)
        chunk_run(repl.L);
    else
        repl_report(repl.L, NULL);
    chunk_drop();
}

/* Ctrl-C at the prompt: forget the line and any unfinished chunk. */
static void prompt_interrupted(void) {
    sig_int = 0;
    attn_lua_interrupt_clear(repl.L);
    chunk_drop();
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    rl_echo_signal_char(SIGINT);
    rl_crlf();
    rl_on_new_line();
    rl_set_prompt(PROMPT1);
    rl_redisplay();
}

/* Wait up to POLL_MS for a key and give it to readline. */
static void input_wait(void) {
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    int r = poll(&pfd, 1, POLL_MS);
    if (sig_int)
        return; // Ctrl-C first: keys typed after it go to the cleared line
    if (r < 0 && errno != EINTR)
        repl.done = 1;
    else if (r > 0 && (pfd.revents & POLLIN))
        rl_callback_read_char();
    else if (r > 0) // hang-up or error with nothing to read: the terminal is gone
        repl.done = 1;
}

static void repl_step(void) {
    if (repl.have_line) {
        char *line = repl.line;
        repl.line = NULL;
        repl.have_line = 0;
        if (sig_int && line != NULL) {
            // Ctrl-C came before readline finished the line (it reads
            // typed-ahead keys in one go): the line goes, as at the prompt.
            fputs("^C\n", stdout);
            chunk_drop();
        } else {
            line_handle(line);
        }
        free(line);
        // A Ctrl-C that came while the command ran has been acted on.
        sig_int = 0;
        attn_lua_interrupt_clear(repl.L);
        if (!repl.done)
            prompt_show();
        return;
    }
    if (sig_int) {
        prompt_interrupted();
        return;
    }
    if (sig_winch) {
        sig_winch = 0;
        rl_resize_terminal();
    }
    input_wait();
    attn_lua_idle(repl.L);
}

int repl_run(lua_State *L) {
    repl.L = L;
    repl.done = 0;
    rl_readline_name = "attnlab"; // for $if attnlab in ~/.inputrc
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_prep_term_function = term_prep; // rl_deprep_terminal restores the rest
    repl_signals_install(L, 1);
    complete_init(L, repl_commands);
    history_start();
    printf("attnlab %s (%s): .help for REPL commands, Ctrl-D to quit\n", PACKAGE_VERSION,
           LUA_RELEASE);
    fflush(stdout);
    prompt_show();
    while (!repl.done)
        repl_step();
    rl_callback_handler_remove();
    complete_shutdown();
    history_finish();
    chunk_drop();
    return 0;
}
