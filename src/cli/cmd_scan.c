/* reservewatch scan: the main job. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char scan_usage[] =
    "usage: reservewatch scan --before EARLIER [--before EVEN_EARLIER ...] --after LATER\n"
    "                         --reserves ZONES --out DIR\n"
    "                         [--profile auto|sentinel2|gf2|landsat|generic]\n"
    "                         [--bands blue=1,green=2,red=3,nir=4,swir1=5,swir2=6[,mask=7]]\n"
    "                         [--reserve-id-field F] [--name-field F] [--zone-field F]\n"
    "                         [--rivers F] [--permits F] [--known F] [--mmu CATEGORY=M2,...]\n"
    "                         [--no-coregister] [--threads N] [--tile PIXELS] [--data DIR] [-q]\n\n"
    "Finds new human disturbances inside the reserves between the earlier scenes\n"
    "(their clear-observation median is the baseline) and the later scene, whose\n"
    "grid is the analysis grid. Writes DIR/detections.gpkg (layers patches and\n"
    "points), DIR/points.csv and DIR/manifest.json (last).\n"
    "Each earlier scene's offset from the later one is measured (NIR\n"
    "cross-correlation, sub-pixel) and shifted back to the nearest pixel before\n"
    "comparing; the offsets are recorded in the manifest. --no-coregister takes\n"
    "the scenes as registered.\n";

static void print_warning(const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "reservewatch scan: warning: %s\n", message);
}

static void print_summary(const rw_scan_result *r)
{
    printf("%-6s %-28s", "id", "reserve");
    for (int c = 0; c < RW_CATEGORY_COUNT; c++)
        printf(" %10s", rw_category_key(c));
    printf("\n");
    int total[RW_CATEGORY_COUNT] = {0};
    for (size_t i = 0; i < rw_scan_result_reserves(r); i++) {
        /* names are UTF-8 Chinese: pad by characters, not bytes */
        const char *name = rw_scan_result_reserve_name(r, i);
        int chars = 0;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            chars += (*p & 0xC0) != 0x80 ? ((*p >= 0xE0) ? 2 : 1) : 0;
        printf("%-6s %s%*s", rw_scan_result_reserve_id(r, i), name, chars < 28 ? 28 - chars : 0, "");
        for (int c = 0; c < RW_CATEGORY_COUNT; c++) {
            printf(" %10d", rw_scan_result_count(r, i, c));
            total[c] += rw_scan_result_count(r, i, c);
        }
        printf("\n");
    }
    printf("%-6s %-28s", "", "total");
    for (int c = 0; c < RW_CATEGORY_COUNT; c++)
        printf(" %10d", total[c]);
    printf("\n");
}

int cli_scan(int argc, char **argv)
{
    rw_scan_options opt;
    rw_scan_options_init(&opt);
    const char *before[12];
    int quiet = 0;
    static const struct option longopts[] = {
        {"before", required_argument, NULL, 'b'},      {"after", required_argument, NULL, 'a'},
        {"reserves", required_argument, NULL, 'r'},    {"out", required_argument, NULL, 'o'},
        {"profile", required_argument, NULL, 'p'},     {"bands", required_argument, NULL, 'B'},
        {"reserve-id-field", required_argument, NULL, 'I'}, {"name-field", required_argument, NULL, 'N'},
        {"zone-field", required_argument, NULL, 'Z'},  {"rivers", required_argument, NULL, 'R'},
        {"permits", required_argument, NULL, 'P'},     {"known", required_argument, NULL, 'K'},
        {"mmu", required_argument, NULL, 'm'},         {"threads", required_argument, NULL, 't'},
        {"tile", required_argument, NULL, 'T'},        {"data", required_argument, NULL, 'D'},
        {"coregister", no_argument, NULL, 'G'},
        {"no-coregister", no_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (opt.nbefore == 12)
                return cli_usage_error("scan", "at most 12 --before scenes");
            before[opt.nbefore++] = optarg;
            break;
        case 'a': opt.after = optarg; break;
        case 'r': opt.reserves = optarg; break;
        case 'o': opt.out_dir = optarg; break;
        case 'p':
            if (strcmp(optarg, "auto") && strcmp(optarg, "sentinel2") && strcmp(optarg, "gf2") &&
                strcmp(optarg, "landsat") && strcmp(optarg, "generic"))
                return cli_usage_error("scan", "--profile '%s' is not one of auto, sentinel2, gf2, landsat, generic",
                                       optarg);
            opt.profile = optarg;
            break;
        case 'B': opt.bands = optarg; break;
        case 'I': opt.reserve_id_field = optarg; break;
        case 'N': opt.name_field = optarg; break;
        case 'Z': opt.zone_field = optarg; break;
        case 'R': opt.rivers = optarg; break;
        case 'P': opt.permits = optarg; break;
        case 'K': opt.known = optarg; break;
        case 'm': opt.mmu = optarg; break;
        case 'D': opt.data_dir = optarg; break;
        case 'G': opt.coregister = 1; break;
        case 'g': opt.coregister = 0; break;
        case 't':
            if (cli_parse_threads("scan", optarg, &opt.threads) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
            break;
        case 'T':
            if (cli_parse_int(optarg, 64, 8192, &v) != 0)
                return cli_usage_error("scan", "--tile '%s' is not a whole number from 64 to 8192", optarg);
            opt.tile = (int)v;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(scan_usage, stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("scan", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("scan", "unexpected argument '%s'", argv[optind]);
    if (opt.nbefore == 0 || opt.after == NULL || opt.reserves == NULL || opt.out_dir == NULL)
        return cli_usage_error("scan", "--before, --after, --reserves and --out are required");
    opt.before = before;
    rw_error err;
    rw_error_clear(&err);
    cli_progress prog = {0};
    rw_scan_result *result = NULL;
    const rw_status st = rw_scan_run(&opt, quiet ? NULL : cli_progress_print, &prog, print_warning, NULL,
                                     &result, &err);
    if (st != RW_OK)
        return cli_report_error("scan", &err);
    if (!quiet)
        print_summary(result);
    rw_scan_result_destroy(result);
    return CLI_EXIT_OK;
}
