#include "checklist.h"

#include <stdlib.h>
#include <string.h>

static const char *const chip_suffix[RW_CHIP_KIND_COUNT] = {
    "before", "after", "before_nrg", "after_nrg"};

void rw_checklist_safe_name(const char *text, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        const unsigned char c = *p;
        /* separators, control bytes and what Windows refuses in names:
         * the folder goes onto USB sticks read on office PCs */
        if (c < 0x20 || c == 0x7f || strchr("/\\<>:\"|?*", c))
            continue;
        if (o == 0 && (c == '.' || c == ' '))
            continue;
        if (o + 1 >= size)
            break;
        buf[o++] = (char)c;
    }
    /* never cut a UTF-8 sequence in half */
    while (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80) {
        size_t lead = o - 1;
        while (lead > 0 && ((unsigned char)buf[lead] & 0xC0) == 0x80)
            lead--;
        const unsigned char l = (unsigned char)buf[lead];
        const size_t need = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : l >= 0xC0 ? 2 : 1;
        if (o - lead == need)
            break;
        o = lead;
    }
    if (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0xC0)
        o--;
    while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '.'))
        o--;
    if (o == 0)
        buf[o++] = '_';
    buf[o] = '\0';
}

rw_status rw_checklist_chip_path(const char *id, rw_chip_kind kind, char *buf,
                                 size_t size, rw_error *err)
{
    char safe[128];
    if (kind < 0 || kind >= RW_CHIP_KIND_COUNT)
        return rw_error_set(err, RW_ERR_INTERNAL, __FILE__, __LINE__,
                            "chip kind %d out of range", (int)kind);
    rw_checklist_safe_name(id, safe, sizeof(safe));
    return rw_format(buf, size, err, "chips/%s_%s.png", safe,
                     chip_suffix[kind]);
}

void rw_checklist_destroy(rw_checklist *cl)
{
    if (!cl)
        return;
    for (size_t r = 0; r < cl->nreserves; r++) {
        for (size_t i = 0; i < cl->reserves[r].n; i++)
            free(cl->reserves[r].items[i].det.wkb);
        free(cl->reserves[r].items);
    }
    free(cl->reserves);
    free(cl->analysis_wkt);
    free(cl->after_scene);
    free(cl->scene_bands[0]);
    free(cl->scene_bands[1]);
    for (int i = 0; i < cl->nbefore; i++)
        free(cl->before_scenes[i]);
    free(cl->before_scenes);
    free(cl);
}
