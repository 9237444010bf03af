#include "detections_columns.h"



#define TEXT_COLUMN(member)                                                    \
    {#member, RW_DET_TEXT, offsetof(rw_detection, member),                     \
     sizeof(((rw_detection *)0)->member), 0}
#define REAL_COLUMN(name, member, decimals)                                    \
    {name, RW_DET_REAL, offsetof(rw_detection, member), sizeof(double), decimals}

const rw_det_column rw_det_columns[RW_DET_NCOLUMNS] = {
    TEXT_COLUMN(id),
    TEXT_COLUMN(reserve_id),
    TEXT_COLUMN(reserve_name),
    TEXT_COLUMN(zone),
    TEXT_COLUMN(category),
    TEXT_COLUMN(change),
    TEXT_COLUMN(status),
    REAL_COLUMN("area_m2", area_m2, 2),
    REAL_COLUMN("area_mu", area_mu, 4),
    REAL_COLUMN("area_ha", area_ha, 4),
    REAL_COLUMN("lon", lon, RW_DET_LONLAT_DECIMALS),
    REAL_COLUMN("lat", lat, RW_DET_LONLAT_DECIMALS),
    TEXT_COLUMN(lon_dms),
    TEXT_COLUMN(lat_dms),
    REAL_COLUMN("confidence", confidence, 3),
    TEXT_COLUMN(basis),
    TEXT_COLUMN(city),
    TEXT_COLUMN(county),
    TEXT_COLUMN(before_date),
    TEXT_COLUMN(after_date),
    REAL_COLUMN("frac_experimental", zone_fraction[0], 4),
    REAL_COLUMN("frac_buffer", zone_fraction[1], 4),
    REAL_COLUMN("frac_core", zone_fraction[2], 4),
};
