#!/usr/bin/env bash
# Reads one Google Benchmark JSON file, prints its speed-ups as text and draws its charts as SVG
# files, with gnuplot.
#
#   bench/charts/plot.sh build/bench/03-thread-pools_bench.json build/bench
#
# Speed-ups: every family with a baseline row (label "sequential" or "1 thread") is printed as
# one small table, each row's median wall time beside the baseline's time divided by it, so that
# a claim such as "oneTBB is 1.9x faster than one thread" is read off the run, not worked out.
#
# Charts: for <stem>_bench.json it runs bench/charts/<stem>.gp if there is one; benchmarks
# without a chart script get no chart, and none are drawn when gnuplot is missing (Debian:
# gnuplot-nox), so `make bench` never fails for want of a picture.
#
# The JSON is first cut into one table per benchmark family (the part of the name before the
# first '/'): "<data>.<family>.tsv", tab-separated, one row per benchmark, with the columns
#   1 label      the rest of the name, without "/real_time" ("reference_pool", "chunksize:16")
#   2 argument   the number after the label's last ':' ("16"), else NaN
#   3 real_time  in ns
#   4 per_task   the benchmark's per_task counter in ns, else NaN
# Rows are the medians when the benchmark ran with --benchmark_repetitions, else the single
# runs. The .gp script gets two variables: `data` (that prefix) and `out` (the folder).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <benchmark.json> <output folder>" >&2
  exit 2
fi
json=$1
out=$2
stem=$(basename "$json" .json)
stem=${stem%_bench}
script="$(cd "$(dirname "$0")" && pwd)/$stem.gp"

tables=$(mktemp -d)
trap 'rm -rf "$tables"' EXIT

# Google Benchmark writes one "key": value per line, and closes each benchmark with a line
# holding only "}" (indented); that is all this relies on.
awk -v prefix="$tables/$stem" '
  function value(line) {
    sub(/^[^:]*: */, "", line); sub(/,$/, "", line); gsub(/"/, "", line)
    return line
  }
  function in_ns(x, unit) {
    if (unit == "us") return x * 1e3
    if (unit == "ms") return x * 1e6
    if (unit == "s") return x * 1e9
    return x
  }
  /"benchmarks": \[/ { inside = 1; next }
  !inside { next }
  /^ *"run_name":/       { run_name = value($0) }
  /^ *"run_type":/       { run_type = value($0) }
  /^ *"aggregate_name":/ { aggregate = value($0) }
  /^ *"real_time":/      { real_time = value($0) }
  /^ *"time_unit":/      { unit = value($0) }
  /^ *"per_task":/       { per_task = value($0) }
  /^ *},?$/ {
    n++
    name[n] = run_name; type[n] = run_type; agg[n] = aggregate
    ns[n] = in_ns(real_time, unit)
    task[n] = per_task == "" ? "NaN" : per_task * 1e9
    if (aggregate == "median") medians = 1
    run_name = run_type = aggregate = real_time = unit = per_task = ""
  }
  END {
    for (i = 1; i <= n; i++) {
      if (medians ? agg[i] != "median" : type[i] != "iteration") continue
      label = name[i]
      gsub(/\/(real_time|manual_time|iterations:[^\/]*|min_time:[^\/]*|repeats:[^\/]*)/, "", label)
      family = label; sub(/\/.*/, "", family)
      sub(/^[^\/]*\/?/, "", label)
      argument = "NaN"
      if (match(label, /:[0-9.]+$/)) argument = substr(label, RSTART + 1)
      printf "%s\t%s\t%.6g\t%s\n", label, argument, ns[i], task[i] >> (prefix "." family ".tsv")
    }
  }
' "$json"

# The speed-up tables: the baseline first, then the rows in the order the JSON holds them. A
# family without a "sequential" or "1 thread" row may still hold groups "<setting>, 1 thread"
# and "<setting>, N threads" (lesson 09: the same work under each GIL): each group gets its own.
for table in "$tables/$stem".*.tsv; do
  [[ -f "$table" ]] || continue
  family=${table#"$tables/$stem."}
  family=${family%.tsv}
  awk -F '\t' -v family="$family" '
    function shown(ns) {
      if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
      if (ns >= 1e6) return sprintf("%.1f ms", ns / 1e6)
      if (ns >= 1e3) return sprintf("%.1f us", ns / 1e3)
      return sprintf("%.0f ns", ns)
    }
    function row(i, base,    ratio, slower) {
      ratio = ns[base] / ns[i]
      slower = ratio < 0.95 ? sprintf("  (%.3g times slower)", 1 / ratio) : ""
      printf "  %-34s %10s   x%s%s\n", label[i], shown(ns[i]), \
             sprintf(ratio < 0.1 ? "%.3f" : "%.2f", ratio), slower
    }
    { label[NR] = $1; ns[NR] = $3 }
    $1 == "sequential" || $1 == "1 thread" { base = NR }
    END {
      if (base) {
        printf "%s: speed-up over %s (its wall time / each row'"'"'s; above 1 is faster)\n", \
               family, label[base]
        row(base, base)
        for (i = 1; i <= NR; i++) if (i != base) row(i, base)
        exit
      }
      heading = 0
      for (b = 1; b <= NR; b++) {
        if (label[b] !~ /, 1 thread$/) continue
        setting = substr(label[b], 1, length(label[b]) - length(", 1 thread"))
        others = 0
        for (i = 1; i <= NR; i++) {
          if (index(label[i], setting ", ") != 1) continue
          rest = substr(label[i], length(setting) + 3)
          if (rest ~ /^[0-9]+ threads$/) other[++others] = i
        }
        if (!others) continue
        if (!heading++)
          printf "%s: speed-up of more threads over 1 thread, each setting on its own (above 1 is faster)\n", family
        row(b, b)
        for (k = 1; k <= others; k++) row(other[k], b)
      }
    }
  ' "$table"
done

[[ -f "$script" ]] || exit 0
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot.sh: gnuplot is not installed (Debian package gnuplot-nox): no charts for $stem" >&2
  exit 0
fi
mkdir -p "$out"
gnuplot -e "data='$tables/$stem'; out='$out'" "$script"
for svg in "$out/$stem"-*.svg; do
  [[ -f "$svg" ]] && echo "chart: $svg"
done
