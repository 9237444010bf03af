/* Categories from change type x zone x context, as a table: the first row
 * whose conditions hold decides. Each row carries the basis an analyst
 * reads to judge the candidate. */
#include "scan.h"

static const char *const category_keys[RW_CATEGORY_COUNT] = {"mining", "industrial", "tourism", "hydropower",
                                                              "other"};
static const char *const category_labels[RW_CATEGORY_COUNT] = {"采矿采砂(石)", "工矿企业", "核心区缓冲区内旅游设施",
                                                                "水电设施", "其他人类活动"};
enum { CAT_MINING, CAT_INDUSTRIAL, CAT_TOURISM, CAT_HYDROPOWER, CAT_OTHER };

const char *rw_category_key(int c) { return c >= 0 && c < RW_CATEGORY_COUNT ? category_keys[c] : "?"; }
const char *rw_category_label(int c) { return c >= 0 && c < RW_CATEGORY_COUNT ? category_labels[c] : "?"; }

typedef struct category_rule {
    int dominant;          /* change class that must dominate, or -1 for any */
    int river;             /* 1: needs river context */
    double min_l2w_share;  /* share of land->water pixels: at least */
    int dry_reach;         /* 1: a bed that fell dry from bank to bank */
    double min_blue_share; /* share of blue-roof pixels: colour-steel sheds
                              cover a few percent of a compound once its
                              yard counts; no other cover is as blue */
    double min_area_m2;
    double min_core_buffer_share; /* 0.1: the share that makes the reported
                                     zone core or buffer (scan_patch.c) */
    double min_fringe_share; /* share of SCAN_FLAG_FRINGE pixels */
    int category;
    const char *basis;
} category_rule;

static const category_rule rules[] = {
    {-1, 0, 0, 0, 0, 0, 0, 1.0, CAT_OTHER,
     "一个像元宽、紧贴原有道路、裸地、水面或沙洲的变化(疑似配准残差) 1-pixel fringe of existing bare or built "
     "ground, water or bar: likely residual misregistration"},
    {-1, 1, 0.20, 0, 0, 0, 0, 0, CAT_HYDROPOWER,
     "河道内新增水面(库区)连同坝体/减水河段 new impoundment on a river with weir or dewatered reach"},
    {RW_CHANGE_WATER_TO_LAND, 1, 0, 1, 0, 0, 0, 0, CAT_HYDROPOWER,
     "河床自岸至岸出露(坝/引水下游减脱水河段) bed dry from bank to bank: dewatered reach below a weir or "
     "diversion"},
    {RW_CHANGE_WATER_TO_LAND, 1, 0, 0, 0, 0, 0, 0, CAT_MINING, "河道内新出露砂洲/河床 new sand bar or bed in a river channel"},
    {RW_CHANGE_TURBIDITY, 1, 0, 0, 0, 0, 0, 0, CAT_MINING, "河道水体浑浊(采砂扰动) turbid plume in a river channel (dredging)"},
    {RW_CHANGE_VEG_TO_BARE, 0, 0, 0, 0, 0, 0, 0, CAT_MINING, "植被变为高亮裸岩裸土 vegetation to bright bare rock/soil"},
    {RW_CHANGE_BARE_TO_ROCK, 0, 0, 0, 0, 0, 0, 0, CAT_MINING, "裸土开挖露出高亮裸岩 bare ground dug down to bright rock"},
    {RW_CHANGE_VEG_TO_BUILT, 0, 0, 0, 0.02, 0, 0, 0, CAT_INDUSTRIAL, "新增彩钢瓦屋顶建筑 new blue colour-steel roofs"},
    {RW_CHANGE_VEG_TO_BUILT, 0, 0, 0, 0, 50000, 0, 0, CAT_INDUSTRIAL, "大面积新增建设用地 large new built-up compound"},
    {RW_CHANGE_VEG_TO_BUILT, 0, 0, 0, 0, 0, 0.1, 0, CAT_TOURISM,
     "核心区/缓冲区内新增建筑、道路或场地 new buildings, roads or yards in core/buffer zone"},
    {-1, 0, 0, 0, 0, 0, 0, 0, CAT_OTHER, "其他人类活动 other human activity"},
};

static int dominant_class(const rw_label_stats *s)
{
    int best = 1;
    for (int c = 2; c < RW_LABEL_MAX_CLASS; c++)
        if (s->class_count[c] > s->class_count[best])
            best = c;
    return best;
}

int scan_category_decide(const scan_category_in *in, int *dominant, const char **basis)
{
    const rw_label_stats *s = in->stats;
    const double n = (double)s->count;
    const int dom = dominant_class(s);
    const double l2w = s->class_count[RW_CHANGE_LAND_TO_WATER] / n;
    const double blue = scan_flag_pixels(s, SCAN_FLAG_BLUEROOF) / n;
    const double fringe = scan_flag_pixels(s, SCAN_FLAG_FRINGE) / n;
    /* the bed's pixels beside banks outnumber those beside water that
     * stayed: a reach fell dry across its whole width, where a sand bar is
     * ringed by the water still flowing round it */
    const bool dry = scan_flag_pixels(s, SCAN_FLAG_BANK) > scan_flag_pixels(s, SCAN_FLAG_CHANNEL);
    const double strict = (s->zone_count[RW_ZONE_BUFFER] + s->zone_count[RW_ZONE_CORE]) / n;
    *dominant = dom;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        const category_rule *r = &rules[i];
        if ((r->dominant >= 0 && r->dominant != dom) || (r->river && !in->river_context) || l2w < r->min_l2w_share ||
            (r->dry_reach && !dry) || blue < r->min_blue_share || in->area_m2 < r->min_area_m2 || strict < r->min_core_buffer_share ||
            fringe < r->min_fringe_share)
            continue;
        *basis = r->basis;
        return r->category;
    }
    *basis = rules[sizeof(rules) / sizeof(rules[0]) - 1].basis;
    return CAT_OTHER;
}
