/* Unit tests of src/scan/scan_category.c: the category table decides from
 * a patch's statistics (dominant change, river context, dry reach, blue
 * roofs, area, zones, misregistration fringe) and names the rule that
 * fired. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"

#include <string.h>

enum { MINING, INDUSTRIAL, TOURISM, HYDROPOWER, OTHER };

/* A patch of n pixels of one change class in one zone. */
static rw_label_stats patch(uint64_t n, int cls, int zone)
{
    rw_label_stats s;
    memset(&s, 0, sizeof(s));
    s.count = n;
    s.class_count[cls] = n;
    s.zone_count[zone] = n;
    return s;
}

static int decide(const rw_label_stats *s, double area, bool river, const char **basis)
{
    int dominant;
    const scan_category_in in = {s, area, river};
    return scan_category_decide(&in, &dominant, basis);
}

static void test_table(void **state)
{
    (void)state;
    const char *basis;
    rw_label_stats s = patch(100, RW_CHANGE_VEG_TO_BUILT, RW_ZONE_CORE);
    assert_int_equal(decide(&s, 10000, false, &basis), TOURISM);
    s.flag_count[2] = 10; /* blue roofs on a tenth */
    assert_int_equal(decide(&s, 10000, false, &basis), INDUSTRIAL);
    s = patch(100, RW_CHANGE_VEG_TO_BUILT, RW_ZONE_EXPERIMENTAL);
    assert_int_equal(decide(&s, 10000, false, &basis), OTHER);
    assert_int_equal(decide(&s, 60000, false, &basis), INDUSTRIAL);
    s = patch(100, RW_CHANGE_VEG_TO_BARE, RW_ZONE_EXPERIMENTAL);
    assert_int_equal(decide(&s, 10000, false, &basis), MINING);
    s = patch(100, RW_CHANGE_TURBIDITY, RW_ZONE_BUFFER);
    assert_int_equal(decide(&s, 10000, true, &basis), MINING);
    assert_int_equal(decide(&s, 10000, false, &basis), OTHER);
    /* impoundment with its weir and dry reach: new water a third */
    s = patch(90, RW_CHANGE_WATER_TO_LAND, RW_ZONE_BUFFER);
    s.class_count[RW_CHANGE_LAND_TO_WATER] = 45;
    s.count = 135;
    assert_int_equal(decide(&s, 10000, true, &basis), HYDROPOWER);
    assert_non_null(strstr(basis, "impoundment"));
}

/* A bed that fell dry: beside banks more than beside water still flowing
 * is a dewatered reach (hydropower); ringed by water, a new sand bar
 * (mining). Off a river, neither. */
static void test_dry_reach(void **state)
{
    (void)state;
    const char *basis;
    rw_label_stats s = patch(200, RW_CHANGE_WATER_TO_LAND, RW_ZONE_EXPERIMENTAL);
    assert_int_equal(SCAN_FLAG_BANK, 1 << 4);
    assert_int_equal(SCAN_FLAG_CHANNEL, 1 << 5);
    s.flag_count[4] = 80; /* both banks of a 40-pixel reach */
    s.flag_count[5] = 20; /* water at its two ends */
    assert_int_equal(decide(&s, 20000, true, &basis), HYDROPOWER);
    assert_non_null(strstr(basis, "bank to bank"));
    s.flag_count[5] = 80; /* as much beside water: a bar along a bank */
    assert_int_equal(decide(&s, 20000, true, &basis), MINING);
    assert_non_null(strstr(basis, "sand bar"));
    assert_int_equal(decide(&s, 20000, false, &basis), OTHER);
}

/* Built-up reaching a tenth into a core or buffer zone is reported in that
 * zone, so it is a tourism candidate; less, it is not. Blue roofs on a
 * fiftieth of it make it industrial anywhere. */
static void test_zone_and_roofs(void **state)
{
    (void)state;
    const char *basis;
    rw_label_stats s = patch(100, RW_CHANGE_VEG_TO_BUILT, RW_ZONE_EXPERIMENTAL);
    s.zone_count[RW_ZONE_EXPERIMENTAL] = 90;
    s.zone_count[RW_ZONE_BUFFER] = 10;
    assert_int_equal(decide(&s, 8000, false, &basis), TOURISM);
    s.zone_count[RW_ZONE_EXPERIMENTAL] = 91;
    s.zone_count[RW_ZONE_BUFFER] = 9;
    assert_int_equal(decide(&s, 8000, false, &basis), OTHER);
    s.flag_count[2] = 2;
    assert_int_equal(decide(&s, 8000, false, &basis), INDUSTRIAL);
    s.flag_count[2] = 1;
    assert_int_equal(decide(&s, 8000, false, &basis), OTHER);
}

/* Lost vegetation whose every pixel borders earlier bare or built ground
 * as bright as it is now is a road moved by misregistration: `other`,
 * with a basis that says so; one pixel of real change keeps it. */
static void test_fringe(void **state)
{
    (void)state;
    const char *basis;
    rw_label_stats s = patch(5, RW_CHANGE_VEG_TO_BUILT, RW_ZONE_BUFFER);
    s.flag_count[3] = 5; /* SCAN_FLAG_FRINGE */
    assert_int_equal(SCAN_FLAG_FRINGE, 1 << 3);
    assert_int_equal(decide(&s, 4500, false, &basis), OTHER);
    assert_non_null(strstr(basis, "misregistration"));
    s.flag_count[3] = 4;
    assert_int_equal(decide(&s, 4500, false, &basis), TOURISM);
    assert_null(strstr(basis, "misregistration"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_fringe),
        cmocka_unit_test(test_dry_reach),
        cmocka_unit_test(test_zone_and_roofs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
