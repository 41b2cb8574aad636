#!/bin/sh
# examples/train/loss_curve.sh -- the loss curve of a learn { } run, from its progress lines.
#
#   tl run examples/train/tiny_llama.tl | tee train.log
#   examples/train/loss_curve.sh train.log OUT      # writes OUT.csv and OUT.svg
#
# Reads the "epoch E/N: loss L" lines; OUT.csv has "epoch,loss"; OUT.svg is a plain line chart.
set -eu
log=$1
out=$2
sed -n 's/^epoch \([0-9]*\)\/[0-9]*: loss \([0-9.]*\)$/\1,\2/p' "$log" >"$out.body"
{ echo "epoch,loss"; cat "$out.body"; } >"$out.csv"
awk -F, -v title="$(basename "$out")" '
  { e[NR] = $1; l[NR] = $2; if (NR == 1 || $2 > hi) hi = $2; if (NR == 1 || $2 < lo) lo = $2; n = NR }
  END {
    W = 640; H = 360; L = 60; R = 20; T = 30; B = 40
    if (hi == lo) hi = lo + 1
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"18\">%s: loss per epoch</text>\n", L, title
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B, W - R, H - B
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, H - B
    printf "<text x=\"4\" y=\"%d\">%.3f</text><text x=\"4\" y=\"%d\">%.3f</text>\n", T + 4, hi, H - B, lo
    printf "<text x=\"%d\" y=\"%d\">epoch %d</text><text x=\"%d\" y=\"%d\">epoch %d</text>\n", L, H - B + 18, e[1], W - R - 60, H - B + 18, e[n]
    printf "<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"2\" points=\""
    for (i = 1; i <= n; i++) {
      x = L + (n > 1 ? (i - 1) / (n - 1) : 0) * (W - L - R)
      y = T + (hi - l[i]) / (hi - lo) * (H - T - B)
      printf "%.1f,%.1f ", x, y
    }
    printf "\"/>\n</svg>\n"
  }' "$out.body" >"$out.svg"
rm -f "$out.body"
echo "$out.csv $out.svg"
