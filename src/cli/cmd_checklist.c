/* reservewatch checklist: field check lists per reserve and city. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESERVES 256

static const char checklist_usage[] =
    "usage: reservewatch checklist --detections DIR/detections.gpkg --out OUT\n"
    "                              [--reserve ID_OR_NAME ...]\n"
    "                              [--categories mining,industrial,tourism,hydropower[,other]]\n"
    "                              [--status new,expanded,known,permitted]\n"
    "                              [--chip-size METRES] [--before SCENE --after SCENE]\n"
    "                              [--threads N] [-q]\n\n"
    "Turns a scan's detections into per-reserve field check lists:\n"
    "OUT/<reserve_id>_<name>/ holds 核查清单.xlsx (附件1 layout with before/after\n"
    "chips), points.csv, points.kml, points.gpx, points_ovital.txt, chips/*.png and\n"
    "report.html; OUT/<city>_问题清单.xlsx is the 附件2 list of each city;\n"
    "OUT/manifest.json is written last. Scenes for the chips come from the scan's\n"
    "manifest.json unless --before/--after are given. Defaults: the four priority\n"
    "categories, statuses new and expanded, chips at least 300 m across.\n"
    "Files are created owner-only (0600, folders 0700).\n";

int cli_checklist(int argc, char **argv)
{
    rw_checklist_options opt;
    rw_checklist_options_init(&opt);
    const char *reserves[MAX_RESERVES];
    int quiet = 0;
    static const struct option longopts[] = {
        {"detections", required_argument, NULL, 'd'}, {"out", required_argument, NULL, 'o'},
        {"reserve", required_argument, NULL, 'r'},     {"categories", required_argument, NULL, 'c'},
        {"status", required_argument, NULL, 's'},      {"chip-size", required_argument, NULL, 'C'},
        {"before", required_argument, NULL, 'b'},      {"after", required_argument, NULL, 'a'},
        {"threads", required_argument, NULL, 't'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': opt.detections = optarg; break;
        case 'o': opt.out_dir = optarg; break;
        case 'r':
            if (opt.nreserves == MAX_RESERVES)
                return cli_usage_error("checklist", "at most %d --reserve options", MAX_RESERVES);
            reserves[opt.nreserves++] = optarg;
            break;
        case 'c': opt.categories = optarg; break;
        case 's': opt.statuses = optarg; break;
        case 'C':
            if (cli_parse_double(optarg, 50, 20000, &opt.chip_m) != 0)
                return cli_usage_error("checklist", "--chip-size '%s' is not a number of metres from 50 to 20000",
                                       optarg);
            break;
        case 'b': opt.before = optarg; break;
        case 'a': opt.after = optarg; break;
        case 't':
            if (cli_parse_threads("checklist", optarg, &opt.threads) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(checklist_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("checklist", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("checklist", "unexpected argument '%s'", argv[optind]);
    if (!opt.detections || !opt.out_dir)
        return cli_usage_error("checklist", "--detections and --out are required");
    if ((opt.before != NULL) != (opt.after != NULL))
        return cli_usage_error("checklist", "--before and --after go together");
    opt.reserves = reserves;
    rw_error err;
    rw_error_clear(&err);
    cli_progress prog = {0};
    rw_checklist_summary sum;
    const rw_status st = rw_checklist_run(&opt, quiet ? NULL : cli_progress_print, &prog, &sum, &err);
    if (st != RW_OK)
        return cli_report_error("checklist", &err);
    if (!quiet) {
        printf("checklist: %zu points in %zu reserves, %zu city lists, in %s\n", sum.points, sum.reserves,
               sum.cities, opt.out_dir);
        if (sum.example_report[0])
            printf("  report: %s\n  form:   %s\n", sum.example_report, sum.example_xlsx);
    }
    return CLI_EXIT_OK;
}
