#!/usr/bin/env bash
# End to end: synth -> scan -> checklist. Forms, GPS files and chips are
# read back and compared with detections.gpkg (check_checklist.py); the
# report is rendered in headless Chromium; reruns give the same ids and
# files; 0 and 1 points work; bad input fails with one line.
set -u
. "$(dirname "$0")/lib.bash"
here=$(cd "$(dirname "$0")" && pwd)
d="$work/data"
"$RW_BIN" synth -q --out "$d" --size 1024 --seed 21 || fail "synth"
"$RW_BIN" scan -q --before "$d"/scene_2023*.tif --after "$d"/scene_2024*.tif --reserves "$d/reserves.gpkg" \
  --rivers "$d/rivers.gpkg" --permits "$d/permits.gpkg" --known "$d/known.gpkg" --out "$work/scan" || fail "scan"

# run from another folder: the scenes are found through the scan's manifest
if (cd / && umask 022 && "$RW_BIN" checklist -q --detections "$work/scan/detections.gpkg" --out "$work/cl" \
      --threads 2 2>"$work/cl.err"); then pass "checklist ran"
else fail "checklist: $(cat "$work/cl.err")"; fi
/usr/bin/python3 "$here/check_checklist.py" "$work/scan/detections.gpkg" "$work/cl" mining,industrial,tourism,hydropower new,expanded
[ $? -le 1 ] || fail "check_checklist.py crashed"
[ -f "$work/cl/manifest.json" ] && pass "manifest.json written" || fail "no manifest.json"

# report.html in headless Chromium: every image decoded, one card per point
probe='<script>window.addEventListener("load",function(){var im=document.images,ok=0;for(var i=0;i<im.length;i++)if(im[i].complete&&im[i].naturalWidth>0)ok++;var p=document.createElement("pre");p.textContent="PROBE images="+im.length+" loaded="+ok+" cards="+document.querySelectorAll(".card").length;document.body.appendChild(p);});</script>'
render() { # report.html -> "images loaded cards"
  # the page's CSP forbids scripts; the copy allows this inline probe only,
  # images stay limited to data: URIs as in the original
  sed "s/default-src 'none';/default-src 'none'; script-src 'unsafe-inline';/" "$1" > "$work/probe.html"
  printf '%s\n' "$probe" >> "$work/probe.html"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 --dump-dom \
    "file://$work/probe.html" 2>/dev/null | sed -n 's/.*PROBE images=\([0-9]*\) loaded=\([0-9]*\) cards=\([0-9]*\).*/\1 \2 \3/p'
}
for r in "$work"/cl/*/report.html; do
  name=$(basename "$(dirname "$r")"); rid=${name%%_*}
  n=$(ogrinfo -ro -q "$work/scan/detections.gpkg" -sql "select count(*) as n from points where reserve_id='$rid' and status in ('new','expanded') and category in ('mining','industrial','tourism','hydropower')" | sed -n 's/.*n (Integer) = //p')
  set -- $(render "$r")
  if [ "$#" = 3 ] && [ "$1" = "$2" ] && [ "$3" = "$n" ] && { [ "$n" = 0 ] || [ "$1" -ge $((2 * n)) ]; }; then
    pass "$name report.html renders: $2/$1 images loaded, $3 cards for $n points"
  else fail "$name report.html: images/loaded/cards '$*' for $n points"; fi
done

# rerun: same ids and same files, XLSX and report included
"$RW_BIN" checklist -q --detections "$work/scan/detections.gpkg" --out "$work/cl2" --threads 1 || fail "rerun"
diffs=0
for f in $(cd "$work/cl" && find . -type f ! -name manifest.json); do
  cmp -s "$work/cl/$f" "$work/cl2/$f" || { diffs=$((diffs + 1)); echo "note differs: $f"; }
done
[ "$diffs" = 0 ] && pass "rerun with 1 thread gives identical files (XLSX, HTML, CSV, KML, GPX, TXT, PNG)" || fail "rerun: $diffs files differ"

# hundreds of points: every point repeated 20 times under new ids
m="$work/many"; mkdir -p "$m"; cp "$work/scan/manifest.json" "$m/"
"$RW_BUILD/tests/many_points" "$work/scan/detections.gpkg" "$m" 20 || fail "many_points"
if "$RW_BIN" checklist -q --threads 2 --detections "$m/detections.gpkg" --out "$m/cl" 2>"$m/err"; then
  /usr/bin/python3 "$here/check_checklist.py" "$m/detections.gpkg" "$m/cl" mining,industrial,tourism,hydropower new,expanded |
    grep -c '^FAIL' | { read -r nf; [ "$nf" = 0 ] && pass "$(ogrinfo -ro -q "$m/detections.gpkg" -sql "select count(*) as n from points" | sed -n 's/.*= //p') points: every file checks out" || fail "many points: $nf checks failed"; }
else fail "many points: $(cat "$m/err")"; fi

# one point and no points: detections files cut down with OGR
first=$(ogrinfo -ro -q "$work/scan/detections.gpkg" -sql "select id from points where category='mining' and status='new' limit 1" | sed -n 's/.*id (String) = //p')
for case in "one:id = '$first'" "none:1 = 0"; do
  name=${case%%:*}; where=${case#*:}; sub="$work/$name"
  mkdir -p "$sub"; cp "$work/scan/manifest.json" "$sub/"
  ogr2ogr -q -f GPKG "$sub/detections.gpkg" "$work/scan/detections.gpkg" -where "$where" points patches
  if "$RW_BIN" checklist -q --detections "$sub/detections.gpkg" --out "$sub/cl" 2>"$sub/err"; then
    /usr/bin/python3 "$here/check_checklist.py" "$sub/detections.gpkg" "$sub/cl" mining,industrial,tourism,hydropower new,expanded | sed "s/^\(PASS\|FAIL\) /\1 $name: /"
  else fail "$name point(s): $(cat "$sub/err")"; fi
done
grep -l '本期未发现' "$work"/none/cl/*/report.html >/dev/null && pass "empty report says 本期未发现需核查的点位" || fail "empty report"

# GF-2 (4 bands of DN, no mask): band roles and scaling from the scan's manifest
g="$work/gf2"
"$RW_BIN" synth -q --out "$g/data" --profile gf2 --size 1024 --seed 3 &&
"$RW_BIN" scan -q --before "$g"/data/scene_2023*.tif --after "$g"/data/scene_2024*.tif --reserves "$g/data/reserves.gpkg" --out "$g/scan" 2>/dev/null &&
"$RW_BIN" checklist -q --detections "$g/scan/detections.gpkg" --out "$g/cl" &&
  /usr/bin/python3 "$here/check_checklist.py" "$g/scan/detections.gpkg" "$g/cl" mining,industrial,tourism,hydropower new,expanded | sed "s/^\(PASS\|FAIL\) /\1 gf2: /" ||
  fail "gf2 synth/scan/checklist"

# options and errors
"$RW_BIN" checklist -q --detections "$work/scan/detections.gpkg" --out "$work/cl_r" --reserve R01 --categories mining,industrial,tourism,hydropower,other --status new,expanded,known,permitted &&
  [ "$(ls -d "$work"/cl_r/*/ | wc -l)" = 1 ] && pass "--reserve R01 gives one folder" || fail "--reserve R01"
expect_exit "checklist without --out" 2 "$RW_BIN" checklist --detections "$work/scan/detections.gpkg"
expect_exit "unknown category" 2 "$RW_BIN" checklist --detections "$work/scan/detections.gpkg" --out "$work/e1" --categories mining,gold
expect_exit "missing detections" 1 "$RW_BIN" checklist --detections "$work/nope.gpkg" --out "$work/e2"
expect_exit "unknown reserve" 1 "$RW_BIN" checklist --detections "$work/scan/detections.gpkg" --out "$work/e3" --reserve R99
cp "$d/reserves.gpkg" "$work/notdet.gpkg"
expect_exit "not a detections file" 1 "$RW_BIN" checklist --detections "$work/notdet.gpkg" --out "$work/e4" --before "$d/scene_2023"*.tif --after "$(echo "$d"/scene_2024*.tif)"
mkdir -p "$work/moved"; cp "$work/scan/detections.gpkg" "$work/moved/"
sed 's#"file": "[^"]*scene_2024#"file": "/nonexistent/scene_2024#' "$work/scan/manifest.json" > "$work/moved/manifest.json"
expect_exit "scene in manifest missing" 1 "$RW_BIN" checklist --detections "$work/moved/detections.gpkg" --out "$work/e5"
[ ! -e "$work/e5/manifest.json" ] && pass "failed run leaves no manifest" || fail "failed run left a manifest"
