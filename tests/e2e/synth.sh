#!/usr/bin/env bash
# End to end for `reservewatch synth`: determinism, land covers separated
# by the bands, pixel-exact truth, the three profiles' formats, the vector
# files' contents, and exact exit codes for bad usage.
set -u
. "$(dirname "$0")/lib.bash"

# determinism: the same seed twice gives byte-identical files; another
# seed gives other scenes
"$RW_BIN" synth -q --out "$work/a" --size 640 --seed 42 --threads 1 &&
"$RW_BIN" synth -q --out "$work/b" --size 640 --seed 42 --threads 2 &&
"$RW_BIN" synth -q --out "$work/c" --size 640 --seed 43 || fail "synth runs"
same=1
for f in "$work"/a/*; do
  cmp -s "$f" "$work/b/$(basename "$f")" || { same=0; fail "determinism: $(basename "$f") differs between two runs"; }
done
[ "$same" = 1 ] && pass "determinism: $(ls "$work/a" | wc -l) files byte-identical for seed 42 (1 and 2 threads)"
if cmp -s "$work"/a/scene_2024*.tif "$work"/c/scene_2024*.tif; then fail "seed 43 gives the same scene as seed 42"
else pass "another seed gives another scene"; fi

# band statistics and truth against the scene classification
"$RW_BUILD/tests/check_synth" "$work/a"
[ $? -le 1 ] || fail "check_synth crashed"

# Sentinel-2: 7 bands, UInt16, tiled 512 DEFLATE, EPSG:32650, 10 m, described
s2=$(echo "$work"/a/scene_2024*.tif)
info=$(gdalinfo "$s2")
if grep -q 'Band 7 Block=512x512 Type=Byte\|Band 7 Block=512x512 Type=UInt' <<<"$info" &&
   grep -q 'COMPRESSION=DEFLATE' <<<"$info" && grep -q 'ID\["EPSG",32650\]\]$' <<<"$info" &&
   grep -q 'Pixel Size = (10.000000000000000,-10.000000000000000)' <<<"$info" &&
   grep -q 'Description = B8 (nir)' <<<"$info" && grep -q 'Description = B12 (swir2)' <<<"$info"; then
  pass "sentinel2 scene format (7 bands, 512 tiles, DEFLATE, EPSG:32650, 10 m, band descriptions)"
else fail "sentinel2 scene format: $(grep -E 'Band|Pixel Size|COMPRESSION' <<<"$info" | head -12 | tr '\n' ' ')"; fi

# GF-2: 4 bands of DN with gain/offset, 4 m, no mask; --pixel 1 gives 1 m
"$RW_BIN" synth -q --out "$work/gf2" --profile gf2 --size 512 --seed 3 || fail "gf2 synth"
info=$(gdalinfo "$(echo "$work"/gf2/scene_2024*.tif)")
if [ "$(grep -c '^Band ' <<<"$info")" = 4 ] && grep -qi 'gain' <<<"$info" && grep -qi 'offset' <<<"$info" &&
   grep -q 'Pixel Size = (4.000000000000000,-4.000000000000000)' <<<"$info"; then
  pass "gf2 scene format (4 bands, gain/offset metadata, 4 m)"
else fail "gf2 scene format: $(grep -E '^Band|Pixel Size' <<<"$info" | tr '\n' ' ')"; fi
"$RW_BIN" synth -q --out "$work/gf2_1m" --profile gf2 --size 512 --pixel 1 --seed 3 &&
  gdalinfo "$(echo "$work"/gf2_1m/scene_2024*.tif)" | grep -q 'Pixel Size = (1.000000000000000,-1.000000000000000)' &&
  pass "gf2 --pixel 1 gives 1 m" || fail "gf2 --pixel 1"

# Landsat: 30 m, scaled reflectance and a QA_PIXEL band
"$RW_BIN" synth -q --out "$work/ls" --profile landsat --size 400 --seed 5 || fail "landsat synth"
info=$(gdalinfo "$(echo "$work"/ls/scene_2024*.tif)")
if grep -q 'QA_PIXEL' <<<"$info" && grep -q 'Pixel Size = (30.000000000000000,-30.000000000000000)' <<<"$info"; then
  pass "landsat scene format (30 m, QA_PIXEL band)"
else fail "landsat scene format: $(grep -E '^Band|Description|Pixel Size' <<<"$info" | tr '\n' ' ')"; fi

# K dates, later date in another CRS and resolution
"$RW_BIN" synth -q --out "$work/k3" --size 400 --seed 9 --dates 3 --crs 4547 --later-pixel 20 || fail "synth --dates 3 --crs"
n=$(ls "$work"/k3/scene_*.tif | wc -l)
last=$(ls "$work"/k3/scene_*.tif | tail -1)
if [ "$n" = 3 ] && gdalinfo "$last" | grep -q 'ID\["EPSG",4547\]\]$' &&
   gdalinfo "$last" | grep -q 'Pixel Size = (20.000000000000000,-20.000000000000000)'; then
  pass "--dates 3 writes 3 scenes, the last in EPSG:4547 at 20 m"
else fail "--dates 3 --crs 4547 --later-pixel 20: $n scenes"; fi

# reserves: CGCS2000, >= 5 reserves with Chinese names and Jiangxi cities,
# nested zones in Chinese, a multipolygon and an invalid ring
r="$work/a/reserves.gpkg"
sql() { ogrinfo -ro -q "$1" -sql "$2" 2>/dev/null | sed -n 's/^ *[a-z_()*]* ([A-Za-z0-9]*) = //p' | head -1; }
nres=$(sql "$r" "select count(distinct reserve_id) as n from reserves")
nzones=$(sql "$r" "select count(distinct zone) as n from reserves where zone in ('核心区','缓冲区','实验区')")
ncities=$(sql "$r" "select count(*) as n from reserves where city in ('南昌市','景德镇市','萍乡市','九江市','新余市','鹰潭市','赣州市','吉安市','宜春市','抚州市','上饶市')")
nall=$(sql "$r" "select count(*) as n from reserves")
ninvalid=$(sql "$r" "select count(*) as n from reserves where not ST_IsValid(geom)")
nmulti=$(sql "$r" "select count(*) as n from reserves where ST_NumGeometries(geom) > 1")
if ogrinfo -ro -so "$r" reserves | grep -q 'ID\["EPSG",4490\]\]$' && [ "${nres:-0}" -ge 5 ] && [ "$nzones" = 3 ] &&
   [ "$ncities" = "$nall" ] && [ "${ninvalid:-0}" -ge 1 ] && [ "${nmulti:-0}" -ge 1 ]; then
  pass "reserves.gpkg: EPSG:4490, $nres reserves, 3 zone values, Jiangxi cities, $nmulti multipolygon(s), $ninvalid invalid ring(s)"
else fail "reserves.gpkg: reserves=$nres zones=$nzones cities=$ncities/$nall invalid=$ninvalid multi=$nmulti"; fi
for f in rivers permits known truth; do
  c=$(sql "$work/a/$f.gpkg" "select count(*) as n from $f")
  [ "${c:-0}" -ge 1 ] && pass "$f.gpkg has $c features" || fail "$f.gpkg is empty or unreadable"
done
head -c 3 "$work/a/ministry_points.csv" | od -An -tx1 | grep -q 'ef bb bf' && grep -q '必查' "$work/a/ministry_points.csv" &&
  pass "ministry_points.csv: BOM and 必查 points" || fail "ministry_points.csv"
cats=$(sql "$work/a/truth.gpkg" "select count(distinct category) as n from truth where must_report = 1")
[ "${cats:-0}" -ge 4 ] && pass "truth: $cats categories to report" || fail "truth: only ${cats:-0} categories to report"

# usage errors: exit 2; runtime errors: exit 1; one line each
expect_exit "synth without --out" 2 "$RW_BIN" synth
expect_exit "synth bad --size" 2 "$RW_BIN" synth --out "$work/x" --size ten
expect_exit "synth too small --size" 2 "$RW_BIN" synth --out "$work/x" --size 10
expect_exit "synth unknown profile" 2 "$RW_BIN" synth --out "$work/x" --profile spot
expect_exit "synth --dates 1" 2 "$RW_BIN" synth --out "$work/x" --dates 1
expect_exit "synth unknown option" 2 "$RW_BIN" synth --out "$work/x" --colour
touch "$work/file"
expect_exit "synth out is a file" 1 "$RW_BIN" synth -q --out "$work/file/sub" --size 256
expect_exit "unknown command" 2 "$RW_BIN" frobnicate
"$RW_BIN" --version | grep -q 'GDAL' && pass "--version names GDAL" || fail "--version"
