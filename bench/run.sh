#!/usr/bin/env bash
# make bench: times `reservewatch scan` on a generated Sentinel-2 pair
# against (a) merely decoding both scenes with GDAL (the floor) and (b) the
# same job done with the GDAL command-line tools, on this machine, now.
# Prints wall time, Mpixel/s, peak RSS and the 1 -> 2 thread speed-up.
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR SIZE}; size=${2:-5490}
rw="$build/reservewatch"
out=bench/out/s2_$size; mkdir -p "$out"
if [ ! -f "$out/data/synth.json" ]; then
  echo "bench: generating a ${size}x${size} Sentinel-2 pair (synth)"
  /usr/bin/time -f "%e s %M KiB" -o "$out/synth.time" "$rw" synth -q --out "$out/data" --size "$size" --seed 42
  echo "bench: synth took $(cat "$out/synth.time") (wall, peak RSS)"
fi
b=$(echo "$out"/data/scene_2023*.tif); a=$(echo "$out"/data/scene_2024*.tif)
mpx=$(echo "$size * $size / 1000000" | bc -l)
timeit() { /usr/bin/time -f "%e %M" -o "$out/t" "$@" >/dev/null 2>&1; cat "$out/t"; }
report() { # name "seconds kib"
  set -- "$1" $2
  printf '%-34s %8.2f s %9.1f Mpx/s %8.0f MiB peak\n' "$1" "$2" "$(echo "$mpx / $2" | bc -l)" "$(echo "$3 / 1024" | bc -l)"
}
echo "bench: ${size}x${size} pixels, $(nproc) cores"
# GDAL 3.6 has no NULL output driver: a checksum reads and decodes every
# block of every band; the two scenes run side by side on the two cores.
# The checksum walks one band after another, so the block cache must hold a
# whole scene (16 bytes a pixel covers 7 UInt16 bands), or a pixel-
# interleaved block is decoded once per band (10980^2: 34 s instead of 12).
cache=$((size * size * 16 / 1000000 + 256))
floor=$(timeit bash -c "gdalinfo --config GDAL_CACHEMAX $cache -checksum '$b' >/dev/null &
  gdalinfo --config GDAL_CACHEMAX $cache -checksum '$a' >/dev/null; wait")
report "decode both scenes (GDAL floor)" "$floor"
scan() { timeit "$rw" scan -q --threads "$1" --before "$b" --after "$a" --reserves "$out/data/reserves.gpkg" \
  --rivers "$out/data/rivers.gpkg" --permits "$out/data/permits.gpkg" --known "$out/data/known.gpkg" --out "$out/scan$1"; }
s1=$(scan 1); report "reservewatch scan, 1 thread" "$s1"
s2=$(scan 2); report "reservewatch scan, 2 threads" "$s2"
# The same job with the GDAL command-line tools, as an analyst would chain
# them: clear sky on both dates from the scene classification band (SCL
# 4-6), change classes from NDVI and MNDWI (vegetation lost, new water,
# water gone), zones burnt, sieve at the minimum mapping unit, polygonise,
# points to CGCS2000. One gdal_calc pass reads all ten bands it needs.
chain() {
  local t=$out/chain; rm -rf "$t"; mkdir -p "$t"
  gdal_calc.py --quiet -A "$b" --A_band 2 -B "$b" --B_band 3 -C "$b" --C_band 4 -D "$b" --D_band 5 -E "$b" --E_band 7 \
    -F "$a" --F_band 2 -G "$a" --G_band 3 -H "$a" --H_band 4 -I "$a" --I_band 5 -J "$a" --J_band 7 \
    --calc "((E>=4)*(E<=6)*(J>=4)*(J<=6))*(1*(((C-B)/(C+B+1.0))>=0.5)*(((H-G)/(H+G+1.0))<0.35) \
+2*(((A-D)/(A+D+1.0))<0.2)*(((F-I)/(F+I+1.0))>=0.4)+3*(((A-D)/(A+D+1.0))>=0.4)*(((F-I)/(F+I+1.0))<0))" \
    --type Byte --outfile "$t/change.tif" --co COMPRESS=DEFLATE
  gdal_translate -q -of GTiff -b 1 -scale 0 65535 0 0 -ot Byte "$a" "$t/zones.tif"
  gdal_rasterize -q -burn 1 "$out/data/reserves.gpkg" "$t/zones.tif"
  gdal_calc.py --quiet -A "$t/change.tif" -B "$t/zones.tif" --calc "A*B" --type Byte --outfile "$t/cand.tif"
  gdal_sieve.py -q -st 4 -8 "$t/cand.tif" "$t/sieved.tif"
  gdal_polygonize.py -q -8 "$t/sieved.tif" -f GPKG "$t/poly.gpkg" poly DN
  ogr2ogr -q -f GPKG -where "DN>0" -t_srs EPSG:4490 "$t/patches.gpkg" "$t/poly.gpkg"
  ogr2ogr -q -f GPKG -dialect SQLite -sql "SELECT DN, ST_PointOnSurface(geom) AS geom FROM poly WHERE DN > 0" \
    -t_srs EPSG:4490 "$t/points.gpkg" "$t/poly.gpkg"
}
export -f chain; export b a out
c=$(timeit bash -c chain)
[ -s "$out/chain/points.gpkg" ] || { echo "bench: the GDAL command-line chain failed (no $out/chain/points.gpkg)"; exit 1; }
report "GDAL command-line chain" "$c"
set -- $s1; t1=$1; set -- $s2; t2=$1; set -- $c; tc=$1; set -- $floor; tf=$1
printf 'speed-up 1 -> 2 threads: %.2fx   vs GDAL chain: %.1fx   scan / decode floor: %.2fx\n' \
  "$(echo "$t1 / $t2" | bc -l)" "$(echo "$tc / $t2" | bc -l)" "$(echo "$t2 / $tf" | bc -l)"

# checklist with thousands of points: the scan's points repeated until
# there are about 2000 (same patches, new ids), chips with 1 and 2 threads
det="$out/scan2/detections.gpkg"
n=$(ogrinfo -ro -q "$det" -sql "select count(*) as n from points where status in ('new','expanded') and category <> 'other'" | sed -n 's/.*n (Integer) = //p')
if [ "${n:-0}" -gt 0 ]; then
  copies=$(( (2000 + n - 1) / n )); many=$out/many; rm -rf "$many"; mkdir -p "$many"
  cp "$out/scan2/manifest.json" "$many/"
  "$build/tests/many_points" "$det" "$many" "$copies"
  pts=$((n * copies))
  for th in 1 2; do
    rm -rf "$many/cl$th"
    set -- $(timeit "$rw" checklist -q --threads "$th" --detections "$many/detections.gpkg" --out "$many/cl$th")
    printf '%-34s %8.2f s %9.1f points/s %6.0f MiB peak\n' "checklist $pts points, $th thread(s)" "$1" \
      "$(echo "$pts / $1" | bc -l)" "$(echo "$2 / 1024" | bc -l)"
  done
fi
