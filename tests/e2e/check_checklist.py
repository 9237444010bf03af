#!/usr/bin/env python3
"""Checks a `reservewatch checklist` output folder against the scan's
detections.gpkg: per-reserve XLSX (its XML), CSV, KML and GPX (read back
with OGR), Ovital TXT, PNG chips (decoded with GDAL) and file modes.
Prints PASS/FAIL lines; exit status 1 on any failure.
usage: check_checklist.py DETECTIONS.gpkg OUT CATEGORIES STATUSES"""
import glob, os, re, stat, sys, zipfile
import xml.etree.ElementTree as ET
from osgeo import gdal, ogr
import numpy as np

gdal.UseExceptions()
det_path, out, cats, stats = sys.argv[1:5]
cats, stats = cats.split(','), stats.split(',')
failures = 0

def check(ok, what):
    global failures
    print(('PASS ' if ok else 'FAIL ') + what, flush=True)
    failures += not ok

# the expected points per reserve, from the detections themselves
ds = ogr.Open(det_path)
want = {}
for f in ds.GetLayerByName('points'):
    if f['category'] in cats and f['status'] in stats:
        want.setdefault(f['reserve_id'], {})[f['id']] = (f['lon'], f['lat'], f['category'], f['zone'], f['area_m2'])
srs = ds.GetLayerByName('patches').GetSpatialRef()
patches = {f['id']: f.GetGeometryRef().Clone() for f in ds.GetLayerByName('patches')}
folders = sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d)))
check(all(stat.S_IMODE(os.stat(os.path.join(out, d)).st_mode) == 0o700 for d in folders) and
      stat.S_IMODE(os.stat(out).st_mode) == 0o700, f'folders are 0700 ({len(folders)} reserves)')
files = [p for p in glob.glob(out + '/**', recursive=True) if os.path.isfile(p)]
bad = [p for p in files if stat.S_IMODE(os.stat(p).st_mode) != 0o600]
check(not bad and files, f'{len(files)} files are 0600 {bad[:3]}')
check(not [p for p in files if p.endswith('.partial')], 'no temporary files left')

NS = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
def xlsx_rows(path):
    """Rows of the first sheet as lists of cell texts, and the media count."""
    z = zipfile.ZipFile(path)
    shared = []
    if 'xl/sharedStrings.xml' in z.namelist():
        for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', NS):
            shared.append(''.join(t.text or '' for t in si.iter('{%s}t' % NS['m'])))
    sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
    rows = []
    for row in sheet.find('m:sheetData', NS).findall('m:row', NS):
        cells = []
        for c in row.findall('m:c', NS):
            v = c.find('m:v', NS)
            t = c.get('t')
            text = '' if v is None else (shared[int(v.text)] if t == 's' else v.text)
            if t == 'inlineStr':
                text = ''.join(x.text or '' for x in c.iter('{%s}t' % NS['m']))
            cells.append((re.sub(r'\d+$', '', c.get('r')), text))
        rows.append(dict(cells))
    media = [n for n in z.namelist() if n.startswith('xl/media/')]
    return rows, media, z.namelist()

HEAD = ['序号', '点位编号', '保护区名称', '功能区', '问题类型', '变化类型', '经度', '纬度',
        '判定依据', '置信度', '核查日期', '核查人', '现状', '变化原因', '是否违法违规',
        '整改措施', '责任单位', '备注']
total = 0
for d in folders:
    rid = d.split('_')[0]
    pts = want.get(rid, {})
    total += len(pts)
    base = os.path.join(out, d)
    # XLSX: headers, one row per point with its coordinates, chips embedded
    rows, media, names = xlsx_rows(os.path.join(base, '核查清单.xlsx'))
    hdr_i = next((i for i, r in enumerate(rows) if '点位编号' in r.values()), None)
    check(hdr_i is not None and all(h in ' '.join(rows[hdr_i].values()) for h in HEAD),
          f'{d}: XLSX header row has every column')
    if hdr_i is None:
        continue
    col = {v: k for k, v in rows[hdr_i].items()}
    lon_col = next(k for v, k in col.items() if v.startswith('经度'))
    lat_col = next(k for v, k in col.items() if v.startswith('纬度'))
    data = [r for r in rows[hdr_i + 1:] if r.get(col['点位编号'], '') in pts]
    check(len(data) == len(pts), f'{d}: XLSX has {len(data)} point rows of {len(pts)}')
    ok = all(abs(float(r[lon_col]) - pts[r[col['点位编号']]][0]) < 5e-7 and
             abs(float(r[lat_col]) - pts[r[col['点位编号']]][1]) < 5e-7 for r in data)
    check(ok, f'{d}: XLSX coordinates agree with detections.gpkg to 1e-6')
    if pts:
        check(len(media) >= 2 * len(pts) or len(set(media)) >= 1 and any('drawing' in n for n in names),
              f'{d}: XLSX embeds chips ({len(media)} images for {len(pts)} points)')
        seqs = [int(float(r[col['序号']])) for r in data]
        check(seqs == list(range(1, len(pts) + 1)), f'{d}: 序号 runs 1..{len(pts)}')
    else:
        check(any('本期未发现' in v for r in rows for v in r.values()), f'{d}: empty list says so')
    # CSV with BOM and Chinese headers
    raw = open(os.path.join(base, 'points.csv'), 'rb').read()
    lines = [l for l in raw[3:].decode('utf-8').splitlines() if l]
    check(raw[:3] == b'\xef\xbb\xbf' and '点位编号' in lines[0] and len(lines) == len(pts) + 1,
          f'{d}: points.csv BOM, Chinese header, {len(lines) - 1} rows')
    for fid in pts:
        lon, lat = pts[fid][:2]
        if f'{lon:.6f}' not in raw.decode('utf-8') or f'{lat:.6f}' not in raw.decode('utf-8'):
            check(False, f'{d}: points.csv lacks the coordinates of {fid}')
    # KML and GPX back through OGR
    for fname, layer_pick in (('points.kml', None), ('points.gpx', 'waypoints')):
        v = ogr.Open(os.path.join(base, fname))
        got = {}
        for li in range(v.GetLayerCount()):
            lyr = v.GetLayer(li)
            if layer_pick and lyr.GetName() != layer_pick:
                continue
            for f in lyr:
                g = f.GetGeometryRef()
                if g is not None and g.GetGeometryType() in (ogr.wkbPoint, ogr.wkbPoint25D):
                    got[f['name'] if f.GetFieldIndex('name') >= 0 else f['Name']] = (g.GetX(), g.GetY())
        ok = set(got) == set(pts) and all(abs(got[k][0] - pts[k][0]) < 5e-7 and
                                          abs(got[k][1] - pts[k][1]) < 5e-7 for k in got)
        check(ok, f'{d}: {fname} has {len(got)} points named by 点位编号 at the detections\' lon/lat')
    if pts:
        v = ogr.Open(os.path.join(base, 'points.kml'))
        polys = sum(1 for li in range(v.GetLayerCount()) for f in v.GetLayer(li)
                    if f.GetGeometryRef() is not None and 'POLYGON' in f.GetGeometryRef().GetGeometryName())
        check(polys == len(pts), f'{d}: points.kml carries {polys} patch polygons')
    # the report carries the same coordinates
    html = open(os.path.join(base, 'report.html'), encoding='utf-8').read()
    check(all(f'{v[0]:.6f}' in html and f'{v[1]:.6f}' in html for v in pts.values()),
          f'{d}: report.html shows every point\'s lon/lat to 6 decimals')
    # Ovital TXT: longitude first, then latitude
    txt = open(os.path.join(base, 'points_ovital.txt'), 'rb').read().decode('utf-8-sig')
    ok = True
    for fid, (lon, lat, *_rest) in pts.items():
        m = re.search(re.escape(f'{lon:.6f}') + r'\s*[,\t ]\s*' + re.escape(f'{lat:.6f}'), txt)
        ok &= m is not None and fid in txt
    check(ok, f'{d}: points_ovital.txt lists lon before lat for every point')
    # chips: 256-square PNGs north up, centred on the patch envelope, at
    # least 3x its extent and 300 m: inside the outline the dates differ
    visible = 0
    for fid in pts:
        b = gdal.Open(os.path.join(base, 'chips', f'{fid}_before.png')).ReadAsArray().astype(float)
        a = gdal.Open(os.path.join(base, 'chips', f'{fid}_after.png')).ReadAsArray().astype(float)
        if a.shape != (3, 256, 256) or b.shape != a.shape:
            continue
        geom = patches[fid]
        x0, x1, y0, y1 = geom.GetEnvelope()
        side = max(300.0, 3 * max(x1 - x0, y1 - y0))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        mem = gdal.GetDriverByName('MEM').Create('', 256, 256, 1, gdal.GDT_Byte)
        mem.SetProjection(srs.ExportToWkt())
        mem.SetGeoTransform((cx - side / 2, side / 256, 0, cy + side / 2, 0, -side / 256))
        vds = ogr.GetDriverByName('Memory').CreateDataSource('')  # keep: the layer lives in it
        lyr = vds.CreateLayer('p', srs)
        f = ogr.Feature(lyr.GetLayerDefn()); f.SetGeometry(geom); lyr.CreateFeature(f)
        gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
        inside = mem.ReadAsArray() == 1
        outline = np.all(a == [[[255]], [[255]], [[0]]], axis=0) | np.all(b == [[[255]], [[255]], [[0]]], axis=0)
        diff = np.abs(a - b).sum(axis=0)
        ins, rest = diff[inside & ~outline], diff[~inside & ~outline]
        visible += ins.size > 0 and ins.mean() > np.median(rest) + 30
    if pts:
        check(visible >= 0.9 * len(pts), f'{d}: patch visible in {visible} of {len(pts)} chip pairs')
check(total == sum(len(v) for v in want.values()), f'{total} points in check lists, {sum(len(v) for v in want.values())} in detections')
cities = glob.glob(out + '/*_问题清单.xlsx')
check(len(cities) >= 1, f'{len(cities)} city lists')
n_city_rows = 0
for c in cities:
    rows, _, _ = xlsx_rows(c)
    n_city_rows += sum(1 for r in rows if any(v in {k for p in want.values() for k in p} for v in r.values()))
check(n_city_rows == total, f'city lists hold {n_city_rows} point rows of {total}')
sys.exit(1 if failures else 0)
