#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

static const cli_command commands[] = {
    {"synth", "generate realistic demo/test scenes, reserves and truth", cli_synth},
    {"scan", "find new disturbances in reserves between scenes: patches and field points", cli_scan},
    {"checklist", "per-reserve field check lists: forms, GPS files, image chips, report", cli_checklist},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *out)
{
    fprintf(out,
            "reservewatch %s: find new human disturbances inside nature "
            "reserves\n\nusage: reservewatch <command> [options]\n"
            "       reservewatch <command> --help\n"
            "       reservewatch --version\n\ncommands:\n",
            rw_version());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int cli_report_error(const char *command, const rw_error *err)
{
    fprintf(stderr, "reservewatch %s: %s\n", command,
            err->message[0] ? err->message : rw_status_name(err->status));
    return err->status == RW_ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "reservewatch %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'reservewatch %s --help')\n", command);
    return CLI_EXIT_USAGE;
}

int cli_progress_print(double fraction, const char *message, void *user)
{
    (void)message;
    cli_progress *p = user;
    if (!p->started) {
        p->started = 1;
        p->last_tick = -1;
    }
    const int tick = (int)(fraction * 40.0 + 1e-9);
    while (p->last_tick < tick && p->last_tick < 40) {
        p->last_tick++;
        if (p->last_tick % 4 == 0)
            fprintf(stderr, "%d", p->last_tick * 10 / 4);
        else
            fputc('.', stderr);
        if (p->last_tick == 40)
            fputs(" - done.\n", stderr);
    }
    fflush(stderr);
    return 1;
}

int cli_parse_int(const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    const long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_threads(const char *command, const char *text, int *out)
{
    long v;
    if (cli_parse_int(text, 1, 1024, &v) != 0)
        return cli_usage_error(command, "--threads '%s' is not a whole number from 1 to 1024", text);
    *out = (int)v;
    return CLI_EXIT_OK;
}

int cli_parse_double(const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    const double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        char deps[512];
        rw_global_init();
        rw_version_dependencies(deps, sizeof(deps));
        printf("reservewatch %s\n%s\n", rw_version(), deps);
        rw_global_cleanup();
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            rw_global_init();
            const int rc = commands[i].run(argc - 1, argv + 1);
            rw_global_cleanup();
            return rc;
        }
    }
    fprintf(stderr,
            "reservewatch: unknown command '%s' (see 'reservewatch --help')\n",
            cmd);
    return CLI_EXIT_USAGE;
}
