/* reservewatch synth: generate demo, test and benchmark data. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char synth_usage[] =
    "usage: reservewatch synth --out DIR [--size PIXELS] [--profile sentinel2|gf2|landsat]\n"
    "                          [--seed N] [--dates K] [--pixel METRES]\n"
    "                          [--crs EPSG] [--later-pixel METRES] [--threads N] [-q]\n\n"
    "Writes a deterministic synthetic data set (same seed, same bytes):\n"
    "  scene_<yyyymmdd>.tif  K dates, oldest first, tiled DEFLATE GeoTIFF, UTM 50N\n"
    "  reserves.gpkg         reserves with core/buffer/experimental zones (EPSG:4490)\n"
    "  rivers.gpkg permits.gpkg known.gpkg ministry_points.csv   context\n"
    "  truth.gpkg            every planted change and distractor\n"
    "  synth.json            description of it all (written last)\n\n"
    "  --size       side of the first scene in pixels (default 2048)\n"
    "  --profile    sentinel2 (10 m, 6 bands + SCL), gf2 (4 m, 4 bands DN),\n"
    "               landsat (30 m, 6 bands + QA_PIXEL) (default sentinel2)\n"
    "  --pixel      pixel size of the scenes in metres (default: the profile's)\n"
    "  --crs        EPSG code of the last date's grid (e.g. 4547), as deliveries differ\n"
    "  --later-pixel  pixel size of the last date in metres\n";

static const struct { const char *name; rw_synth_profile profile; } profile_names[] = {
    {"sentinel2", RW_SYNTH_SENTINEL2}, {"gf2", RW_SYNTH_GF2}, {"landsat", RW_SYNTH_LANDSAT}};

int cli_synth(int argc, char **argv)
{
    rw_synth_options opt;
    rw_synth_options_init(&opt);
    int quiet = 0;
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},     {"size", required_argument, NULL, 's'},
        {"profile", required_argument, NULL, 'p'}, {"seed", required_argument, NULL, 'S'},
        {"dates", required_argument, NULL, 'd'},   {"pixel", required_argument, NULL, 'x'},
        {"crs", required_argument, NULL, 'c'},     {"later-pixel", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    long v;
    double d;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': opt.out_dir = optarg; break;
        case 's':
            if (cli_parse_int(optarg, 256, 40000, &v) != 0)
                return cli_usage_error("synth", "--size '%s' is not a whole number from 256 to 40000", optarg);
            opt.size = (int)v;
            break;
        case 'p': {
            size_t i = 0;
            while (i < sizeof(profile_names) / sizeof(profile_names[0]) && strcmp(optarg, profile_names[i].name) != 0)
                i++;
            if (i == sizeof(profile_names) / sizeof(profile_names[0]))
                return cli_usage_error("synth", "--profile '%s' is not one of sentinel2, gf2, landsat", optarg);
            opt.profile = profile_names[i].profile;
            break;
        }
        case 'S':
            if (cli_parse_int(optarg, 0, 0x7fffffffL, &v) != 0)
                return cli_usage_error("synth", "--seed '%s' is not a non-negative whole number", optarg);
            opt.seed = (uint64_t)v;
            break;
        case 'd':
            if (cli_parse_int(optarg, 2, 12, &v) != 0)
                return cli_usage_error("synth", "--dates '%s' is not a whole number from 2 to 12", optarg);
            opt.dates = (int)v;
            break;
        case 'x':
        case 'l':
            if (cli_parse_double(optarg, 0.1, 1000.0, &d) != 0)
                return cli_usage_error("synth", "--%s '%s' is not a pixel size in metres (0.1 to 1000)",
                                       c == 'x' ? "pixel" : "later-pixel", optarg);
            *(c == 'x' ? &opt.pixel : &opt.later_pixel) = d;
            break;
        case 'c':
            if (cli_parse_int(optarg, 1024, 999999, &v) != 0)
                return cli_usage_error("synth", "--crs '%s' is not an EPSG code", optarg);
            opt.later_epsg = (int)v;
            break;
        case 't':
            if (cli_parse_threads("synth", optarg, &opt.threads) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(synth_usage, stdout); return CLI_EXIT_OK;
        default:
            return cli_usage_error("synth", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
    if (opt.out_dir == NULL)
        return cli_usage_error("synth", "--out DIR is required");
    rw_error err;
    rw_error_clear(&err);
    cli_progress prog = {0};
    const rw_status st = rw_synth_run(&opt, quiet ? NULL : cli_progress_print, &prog, &err);
    if (st != RW_OK)
        return cli_report_error("synth", &err);
    if (!quiet)
        fprintf(stderr, "synth: wrote %d scenes, reserves, context and truth to %s\n", opt.dates, opt.out_dir);
    return CLI_EXIT_OK;
}
