/*
 * main.c: attnlab's command line.
 *
 * Reads the options (they end at the script name or at --), makes the Lua
 * state, then runs in this order: each -e CODE, the script or the action
 * (--lesson, --list-lessons, --look), and the REPL when -i asks for it,
 * after a lesson taken without --auto, or when nothing else was given.
 * Like lua(1), standard input that is not a terminal runs as a script
 * instead of the REPL.
 *
 * Exit status: 0 ok; 1 Lua code raised an error (message and traceback on
 * stderr), or the Lua state could not be made; 2 bad usage, including a
 * script file that cannot be opened (a typo on the command line, not an
 * error of the script).
 */
#include <config.h>

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/readline.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/attn_lua.h"
#include "lua/safe.h"
#include "repl.h"

#define PROGNAME "attnlab"
#define EXIT_USAGE 2

typedef struct Options {
    const char **exprs; // -e CODE, in order (nexprs of them)
    int nexprs;
    int interactive; // -i
    int help, version;
    const char *lesson, *lang; // --lesson ID [--lang zh|en] [--auto]
    int lesson_auto;
    int list_lessons;
    const char *look, *model, *png; // --look TEXT [--model M] [--png F]
    const char *layer, *head, *generate, *csv, *level; // more --look options
    int script;                     // argv index of the script, 0 if none
    AttnConfig cfg;
} Options;

static const char help_text[] =
    "Usage: attnlab [OPTION]... [FILE.lua [ARG]...]\n"
    "An interactive laboratory for attention (Transformers): Lua 5.4 with the attn\n"
    "library, a REPL, lessons and attention pictures.\n"
    "\n"
    "With no FILE, no -e and no action, attnlab starts the REPL (prompt \"attn> \")\n"
    "when standard input is a terminal, and runs standard input as a script when it\n"
    "is not. FILE - also runs standard input. Options end at FILE or at --; the\n"
    "script sees its arguments in the table arg and in ... as lua(1) does.\n"
    "\n"
    "  -e CODE            run the Lua code CODE (repeatable; before FILE)\n"
    "  -i                 enter the REPL after the code, FILE or action\n"
    "  --lesson ID        run the lesson ID\n"
    "  --lang zh|en       the language of the lesson (with --lesson)\n"
    "  --auto             run the lesson to the end without waiting for keys\n"
    "  --list-lessons     list the lessons\n"
    "  --look TEXT        show a model's attention on the sentence TEXT\n"
    "  --model NAME|DIR   the model for --look: a built-in name or a folder\n"
    "  --png FILE         with --look: write the picture to FILE, no window\n"
    "  --layer L          with --look: show layer L (default the last)\n"
    "  --head H           with --look: show head H (default the average of heads)\n"
    "  --generate N       with --look: continue the text by N tokens (GPT models)\n"
    "  --csv FILE         with --look: write the weights as CSV to FILE\n"
    "  --level token|char|word  with --look: one row per token, character or word\n"
    "  --headless         no windows: pictures go to the terminal or to files\n"
    "  --safe             sandbox for shared scripts: no os.execute, io.popen,\n"
    "                     package.loadlib or binary chunks, and no writes outside\n"
    "                     the working folder\n"
    "  --device cpu|cuda  the default device for new tensors (default cpu)\n"
    "  -h, --help         show this help and exit\n"
    "  --version          show the version and exit\n"
    "\n"
    "In the REPL, .help lists the REPL commands (.time toggles timing of each\n"
    "command); Tab completes names; Ctrl-C stops running code or clears the\n"
    "line; Ctrl-D quits.\n"
    "\n"
    "Environment: ATTNLAB_PATH, the folder holding lua/attn/init.lua;\n"
    "ATTNLAB_HISTORY, the REPL history file (default ~/.attnlab_history).\n"
    "\n"
    "Exit status: 0 ok; 1 the code raised an error (traceback on stderr);\n"
    "2 bad usage (unknown option, missing value, a FILE that cannot be opened).\n";

/* Print a usage error with the hint to --help; returns EXIT_USAGE. */
static int usage(const char *msg, const char *what) {
    if (what != NULL)
        fprintf(stderr, "%s: %s '%s'\n", PROGNAME, msg, what);
    else
        fprintf(stderr, "%s: %s\n", PROGNAME, msg);
    fprintf(stderr, "Try '%s --help' for more information.\n", PROGNAME);
    return EXIT_USAGE;
}

/* ---- options ----------------------------------------------------------- */

/* Whether argv[*i] is the option `name` with a value ("--name V",
   "--name=V"; for a one-letter name also "-nV"). Sets *val (NULL when the
   value is missing) and moves *i past what it used. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=' && name[1] == '-')
        *val = a + n + 1;
    else if (a[n] != '\0' && name[1] != '-')
        *val = a + n;
    else if (a[n] != '\0')
        return 0;
    else
        *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

/* One option with a value; returns -1 when argv[*i] is none of them,
   EXIT_USAGE for a missing value, 0 when taken. */
static int parse_valued(Options *o, int argc, char **argv, int *i) {
    static const char *const names[] = {
        "-e",      "--lesson", "--lang",  "--look", "--model",    "--png", "--device",
        "--layer", "--head",   "--generate", "--csv", "--level", NULL};
    const char **slots[] = {NULL,       &o->lesson, &o->lang,     &o->look,
                            &o->model,  &o->png,    &o->cfg.device, &o->layer,
                            &o->head,   &o->generate, &o->csv,    &o->level};
    const char *val = NULL;
    for (int k = 0; names[k]; k++) {
        if (!opt_value(argc, argv, i, names[k], &val))
            continue;
        if (val == NULL)
            return usage("missing value after", names[k]);
        if (k == 0)
            o->exprs[o->nexprs++] = val;
        else
            *slots[k] = val;
        return 0;
    }
    return -1;
}

/* One option without a value; 0 when taken, -1 when unknown. */
static int parse_flag(Options *o, const char *a) {
    static const char *const names[] = {"-i", "--auto", "--list-lessons", "--headless", "--safe",
                                        "-h", "--help", "--version",      NULL};
    int *flags[] = {&o->interactive, &o->lesson_auto, &o->list_lessons, &o->cfg.headless,
                    &o->cfg.safe,    &o->help,        &o->help,         &o->version};
    for (int k = 0; names[k]; k++)
        if (!strcmp(a, names[k])) {
            *flags[k] = 1;
            return 0;
        }
    return -1;
}

/* Whether s is a whole number from 1 to 1000000 (--layer, --head, --generate). */
static int positive(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && v >= 1 && v <= 1000000;
}

/* The values of the --look family; 0 or the usage status. */
static int look_check(const Options *o) {
    const char *const *vals[] = {&o->layer, &o->head, &o->generate};
    const char *const what[] = {"--layer takes a positive whole number, not",
                                "--head takes a positive whole number, not",
                                "--generate takes a positive whole number, not"};
    for (int k = 0; k < 3; k++)
        if (*vals[k] && !positive(*vals[k]))
            return usage(what[k], *vals[k]);
    if (o->level && strcmp(o->level, "token") && strcmp(o->level, "char") &&
        strcmp(o->level, "word"))
        return usage("--level takes token, char or word, not", o->level);
    int extra = o->model || o->png || o->layer || o->head || o->generate || o->csv || o->level;
    if (extra && !o->look)
        return usage("--model, --png, --layer, --head, --generate, --csv and --level go with "
                     "--look",
                     NULL);
    return 0;
}

/* Combinations and values the option table cannot check. */
static int options_check(const Options *o) {
    int actions = (o->script != 0) + (o->lesson != NULL) + o->list_lessons + (o->look != NULL);
    if (o->lang && strcmp(o->lang, "zh") && strcmp(o->lang, "en"))
        return usage("--lang takes zh or en, not", o->lang);
    if (o->cfg.device && strcmp(o->cfg.device, "cpu") && strcmp(o->cfg.device, "cuda"))
        return usage("--device takes cpu or cuda, not", o->cfg.device);
    if ((o->lang || o->lesson_auto) && !o->lesson)
        return usage("--lang and --auto go with --lesson", NULL);
    int st = look_check(o);
    if (st)
        return st;
    if (actions > 1)
        return usage("give only one of FILE, --lesson, --list-lessons and --look", NULL);
    return 0;
}

/* Fill o from argv; returns 0, or the exit status for a usage error. */
static int options_parse(Options *o, int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-"))
            break; // the script ("-": standard input)
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        int st = parse_valued(o, argc, argv, &i);
        if (st > 0)
            return st;
        if (st < 0 && parse_flag(o, a) < 0)
            return usage("unknown option", a);
    }
    o->script = i < argc ? i : 0;
    return o->help || o->version ? 0 : options_check(o);
}

/* ---- running ----------------------------------------------------------- */

/* Report the error at the top (progname prefix) and give exit status 1. */
static int fail(lua_State *L) {
    repl_report(L, PROGNAME);
    return 1;
}

/* What a script gets from the command line. */
typedef struct ScriptArgs {
    char **argv; // the whole command line
    int argc;
    int script; // argv index of the script, 0 if none
} ScriptArgs;

/* Protected: the global `arg` as lua(1) makes it: arg[0] the script,
   arg[1..] its arguments, the interpreter and options at negative
   indices. Argument 1 is the ScriptArgs. */
static int args_create(lua_State *L) {
    const ScriptArgs *sa = lua_touserdata(L, 1);
    int narg = sa->argc > sa->script ? sa->argc - sa->script - 1 : 0;
    lua_createtable(L, narg, sa->script + 1);
    for (int i = 0; i < sa->argc; i++) {
        lua_pushstring(L, sa->argv[i]);
        lua_rawseti(L, -2, i - sa->script);
    }
    lua_setglobal(L, "arg");
    return 0;
}

static int run_code(lua_State *L, const char *code) {
    if (luaL_loadbuffer(L, code, strlen(code), "=(command line)") != LUA_OK)
        return fail(L);
    return repl_pcall(L, 0, 0) == LUA_OK ? 0 : fail(L);
}

/* Protected: load the script (argument 1: its name, nil for standard
   input) and return it, followed by arg[1..] when argument 2 is true. */
static int script_load(lua_State *L) {
    const char *file = lua_tostring(L, 1);
    const char *mode = attn_safe_enabled(L) ? "t" : "bt";
    if (luaL_loadfilex(L, file, mode) != LUA_OK)
        return lua_error(L);
    int n = 0;
    if (lua_getglobal(L, "arg") == LUA_TTABLE && lua_toboolean(L, 2)) {
        n = (int)luaL_len(L, -1);
        luaL_checkstack(L, n, "too many script arguments");
        for (int k = 1; k <= n; k++)
            lua_rawgeti(L, -1 - (k - 1), k);
    }
    lua_remove(L, -n - 1);
    return n + 1;
}

/* Run a script file (NULL: standard input), with arg[1..] as its `...`
   when it was named on the command line. */
static int run_script(lua_State *L, const char *file, int named) {
    int base = lua_gettop(L);
    lua_pushcfunction(L, script_load);
    lua_pushstring(L, file);
    lua_pushboolean(L, named);
    if (lua_pcall(L, 2, LUA_MULTRET, 0) != LUA_OK)
        return fail(L);
    return repl_pcall(L, lua_gettop(L) - base - 1, 0) == LUA_OK ? 0 : fail(L);
}

/* Whether the script can be read; prints the usage error otherwise. */
static int script_readable(const char *file) {
    struct stat st;
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open %s: %s\n", PROGNAME, file, strerror(errno));
        return 0;
    }
    int dir = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
    fclose(f);
    if (dir)
        fprintf(stderr, "%s: %s is a folder, not a script\n", PROGNAME, file);
    return !dir;
}

/* Push the function at the dotted path under the global attn ("lesson.run")
   and return 1; or, when this build lacks it, push a message naming what
   is missing and return 0. */
static int push_api(lua_State *L, const char *option, const char *what, const char *path) {
    char part[32];
    lua_getglobal(L, "attn");
    for (const char *p = path; lua_istable(L, -1);) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        lua_getfield(L, -1, part);
        lua_remove(L, -2);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (lua_isfunction(L, -1))
        return 1;
    lua_pop(L, 1);
    lua_pushfstring(L, "%s: %s not available in this build yet (attn.%s is missing)", option, what,
                    path);
    return 0;
}

/* The lesson runner's `read` when standard input is a terminal: show the
   prompt and wait for a line in short polls, letting open windows handle
   their events in between (as the REPL does), so a heatmap stays live
   while the learner reads. Returns the line without its newline; nil at
   the end of input, or on Ctrl-C, which the runner takes as leaving the
   lesson (the learner lands in the REPL). */
static int lesson_read(lua_State *L) {
    const char *prompt = luaL_optstring(L, 1, "");
    luaL_Buffer line;
    int got = 0; // bytes read so far, to tell an empty line from the end
    fputs(prompt, stdout);
    fflush(stdout);
    luaL_buffinit(L, &line);
    for (;;) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        char c;
        int r = poll(&pfd, 1, 16);
        ssize_t n = r > 0 ? read(STDIN_FILENO, &c, 1) : 0;
        if ((r < 0 || n < 0) && errno == EINTR) { // Ctrl-C: forget the flag, leave
            attn_lua_interrupt_clear(L);
            putchar('\n');
            lua_pushnil(L);
            return 1;
        }
        if (r < 0 || n < 0 || (r > 0 && n == 0)) { // an error or the end of input
            if (!got)
                lua_pushnil(L);
            else
                luaL_pushresult(&line);
            return 1;
        }
        if (r == 0) {
            attn_lua_idle(L);
            continue;
        }
        got = 1;
        if (c == '\n')
            break;
        luaL_addchar(&line, c);
    }
    luaL_pushresult(&line);
    return 1;
}

/* On a terminal, lessons read their keys with lesson_read (above), here
   and in the REPL alike: attn.lesson takes attn.lesson._read, when set, as
   its reader. Nothing happens in a build without attn.lesson. Protected
   (lua_pcall), since setting a field may run out of memory. */
static int lesson_reader_install(lua_State *L) {
    if (lua_getglobal(L, "attn") == LUA_TTABLE && lua_getfield(L, -1, "lesson") == LUA_TTABLE) {
        lua_pushcfunction(L, lesson_read);
        lua_setfield(L, -2, "_read");
    }
    return 0;
}

/* Protected: run the action of the options (upvalue: the Options).
   Returns nothing, or the message when the action is missing. */
static int action_run(lua_State *L) {
    const Options *o = lua_touserdata(L, lua_upvalueindex(1));
    if (o->lesson != NULL) {
        if (!push_api(L, "--lesson", "lessons are", "lesson.run"))
            return 1;
        lua_pushstring(L, o->lesson);
        lua_createtable(L, 0, 2);
        lua_pushstring(L, o->lang); // nil when not given: the lesson's default
        lua_setfield(L, -2, "lang");
        lua_pushboolean(L, o->lesson_auto);
        lua_setfield(L, -2, "auto");
        if (!o->lesson_auto && isatty(STDIN_FILENO))
            repl_signals_install(L, 1); // Ctrl-C leaves the lesson, not the program
        lua_call(L, 2, 0);
    } else if (o->list_lessons) {
        if (!push_api(L, "--list-lessons", "lessons are", "lesson.list"))
            return 1;
        int base = lua_gettop(L) - 1;
        lua_call(L, 0, LUA_MULTRET);
        repl_print_values(L, lua_gettop(L) - base);
    } else if (o->look != NULL) {
        if (!push_api(L, "--look", "attention pictures are", "look"))
            return 1;
        lua_pushstring(L, o->look);
        lua_createtable(L, 0, 2);
        lua_pushstring(L, o->model);
        lua_setfield(L, -2, "model");
        lua_pushstring(L, o->png);
        lua_setfield(L, -2, "png");
        lua_pushstring(L, o->csv);
        lua_setfield(L, -2, "csv");
        lua_pushstring(L, o->level);
        lua_setfield(L, -2, "level");
        const char *const nums[] = {o->layer, o->head, o->generate};
        const char *const keys[] = {"layer", "head", "generate"};
        for (int k = 0; k < 3; k++)
            if (nums[k]) {
                lua_pushinteger(L, strtol(nums[k], NULL, 10)); // checked by look_check
                lua_setfield(L, -2, keys[k]);
            }
        lua_call(L, 2, 0);
        // The browser window stays until closed, unless -i leads to the REPL,
        // which keeps it live by itself.
        if (!o->interactive && push_api(L, "--look", "windows are", "viz.wait"))
            lua_call(L, 0, 0);
        else if (!o->interactive)
            lua_pop(L, 1);
    }
    return 0;
}

/* A missing action is a plain message; its traceback would be noise. */
static int run_action(lua_State *L, const Options *o) {
    lua_pushlightuserdata(L, (void *)o);
    lua_pushcclosure(L, action_run, 1);
    if (repl_pcall(L, 0, 1) != LUA_OK)
        return fail(L);
    const char *missing = lua_tostring(L, -1);
    if (missing != NULL)
        fprintf(stderr, "%s: %s\n", PROGNAME, missing);
    lua_pop(L, 1);
    return missing != NULL;
}

/* Everything after the options, in order; returns the exit status. */
static int run_all(lua_State *L, const Options *o, int argc, char **argv) {
    int st = 0, tty = isatty(STDIN_FILENO);
    int did = o->nexprs > 0 || o->script || o->lesson || o->list_lessons || o->look;
    ScriptArgs sa = {argv, argc, o->script};
    lua_pushcfunction(L, args_create);
    lua_pushlightuserdata(L, &sa);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
        return fail(L);
    repl_signals_install(L, 0);
    lua_pushcfunction(L, lesson_reader_install);
    if (tty && lua_pcall(L, 0, 0, 0) != LUA_OK)
        return fail(L);
    if (!tty)
        lua_pop(L, 1);
    for (int k = 0; k < o->nexprs && st == 0; k++)
        st = run_code(L, o->exprs[k]);
    if (st == 0 && o->script) {
        const char *file = strcmp(argv[o->script], "-") ? argv[o->script] : NULL;
        st = run_script(L, file, 1);
    } else if (st == 0 && did) {
        st = run_action(L, o);
    }
    // A lesson taken by hand (no --auto) leaves the learner in the REPL
    // with the lesson's variables; standard input that is not a terminal
    // runs on as a script, as everywhere else.
    int stay = o->interactive || (o->lesson != NULL && !o->lesson_auto);
    if (st != 0 || (did && !stay))
        return st;
    if (tty)
        return repl_run(L);
    return run_script(L, NULL, 0);
}

int main(int argc, char **argv) {
    Options o;
    char err[1024];
    memset(&o, 0, sizeof o);
    o.exprs = calloc((size_t)argc + 1, sizeof *o.exprs);
    if (o.exprs == NULL) {
        fprintf(stderr, "%s: out of memory\n", PROGNAME);
        return 1;
    }
    int st = options_parse(&o, argc, argv);
    if (st == 0 && o.help)
        fputs(help_text, stdout);
    else if (st == 0 && o.version)
        printf("%s %s\n%s, GNU Readline %s\n", PROGNAME, PACKAGE_VERSION, LUA_RELEASE,
               rl_library_version);
    else if (st == 0 && o.script && strcmp(argv[o.script], "-") && !script_readable(argv[o.script]))
        st = EXIT_USAGE;
    else if (st == 0) {
        lua_State *L = attn_lua_new(&o.cfg, err, sizeof err);
        if (L == NULL) {
            fprintf(stderr, "%s: %s\n", PROGNAME, err);
            st = 1;
        } else {
            st = run_all(L, &o, argc, argv);
            repl_signals_install(NULL, 0);
            lua_close(L);
        }
    }
    free(o.exprs);
    return st;
}
