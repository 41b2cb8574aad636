#!/usr/bin/env bash
# interp_report.sh TL -- examples/interp/lens_report.tl on stories260K writes the lens
# SVG (one <rect class="cell"> per layer x position), the attention SVGs and one HTML
# report; headless Chromium (Debian chromium) then renders the report: its DOM must
# hold the lens SVG with n_layer x n_tokens cells, and the screenshot must not be
# blank (a real mix of colours, the heatmap's blues among them).
set -u
tl=$1
here=$(cd "$(dirname "$0")" && pwd)
models=${TL_TEST_MODELS:-$here/../../../shared/models}
model=$models/stories260K.gguf
[[ -e $model ]] || { echo "SKIPPED: $model not found (set TL_TEST_MODELS)"; exit 77; }
py=/usr/bin/python3
[[ -x $py ]] || { echo "SKIPPED: $py not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
TL_MODEL=$model "$tl" run "$here/../../examples/interp/lens_report.tl" -- "$work/out" \
  "$models/stories260K-q4_0.gguf" "Once upon a time there was" > "$work/stdout" || { cat "$work/stdout"; exit 1; }
# 5 layers x 7 tokens (<s> Once upon a time there was)
want=35
cells=$(grep -o '<rect class="cell"' "$work/out/lens.svg" | wc -l)
[[ $cells == "$want" ]] || { echo "lens.svg: $cells cells, expected $want"; fail=1; }
for f in lens attention-0 kl; do
  "$py" -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$work/out/$f.svg" ||
    { echo "$f.svg is not well-formed XML"; fail=1; }
done
grep -q '\x1b\[' "$work/stdout" && { echo "ANSI colours in a file (stdout is not a terminal)"; fail=1; }

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "SKIPPED (browser part): chromium not found (Debian package chromium); the SVG checks passed"
  [[ $fail == 0 ]] && exit 77
  exit $fail
fi
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --disable-sync --no-first-run --user-data-dir="$work/profile" --hide-scrollbars)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$work/out/report.html" > "$work/dom.html" 2>"$work/chromium.err" ||
  { echo "chromium --dump-dom failed"; tail -5 "$work/chromium.err"; fail=1; }
"$py" - "$work/dom.html" "$want" <<'PY' || fail=1
import sys, re
dom = open(sys.argv[1], encoding='utf-8').read()
m = re.search(r'<div id="lens">(.*?)</div>', dom, re.S)
assert m, 'no #lens in the rendered DOM'
n = len(re.findall(r'<rect class="cell"', m.group(1)))
assert n == int(sys.argv[2]), f'rendered lens SVG has {n} cells, expected {sys.argv[2]}'
assert '<svg' in m.group(1), 'the lens is not an inline SVG element'
PY
timeout 120 "$browser" "${flags[@]}" --window-size=1400,1000 --screenshot="$work/shot.png" \
  "file://$work/out/report.html" >/dev/null 2>>"$work/chromium.err" || { echo "chromium --screenshot failed"; fail=1; }
"$py" - "$work/shot.png" <<'PY' || fail=1
# A small PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium writes).
import sys, struct, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, pixels = bytearray(stride), {}
nonwhite = blue = 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        pixels[(r, g, bl)] = 1
        if (r, g, bl) != (255, 255, 255): nonwhite += 1
        if bl > r + 60: blue += 1
    prev = line
total = w * h
print(f'screenshot {w}x{h}: {100 * nonwhite / total:.1f}% non-white, {len(pixels)} colours, {blue} blue pixels')
assert nonwhite > total * 0.02, 'blank screenshot'
assert len(pixels) > 20 and blue > 1000, 'no heatmap colours in the screenshot'
PY
[[ $fail == 0 ]] && echo "ok: $cells lens cells in the SVG and in Chromium's DOM, screenshot not blank"
exit $fail
