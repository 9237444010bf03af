/* The command-line program: one file per subcommand, public header only. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include "reservewatch.h"

/* Exit statuses of the program. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

int cli_synth(int argc, char **argv);
int cli_scan(int argc, char **argv);
int cli_checklist(int argc, char **argv);

/* Prints "reservewatch <cmd>: message" on stderr and returns the exit
 * status for the error's status (usage errors give 2, the rest 1). */
int cli_report_error(const char *command, const rw_error *err);

/* Prints a usage error in one line and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* GDAL-style terminal progress on stderr ("0...10...20...100 - done.").
 * user must point to a cli_progress initialised to {0}. */
typedef struct cli_progress {
    int last_tick; /* last 2.5 % step printed, -1 before the first */
    int started;
} cli_progress;
int cli_progress_print(double fraction, const char *message, void *user);

/* Strict number parsing for options; 0 on success. */
int cli_parse_int(const char *text, long lo, long hi, long *out);
int cli_parse_double(const char *text, double lo, double hi, double *out);
/* --threads of any command: 1..1024 into *out, or the usage error printed
 * and CLI_EXIT_USAGE returned. */
int cli_parse_threads(const char *command, const char *text, int *out);

#endif
