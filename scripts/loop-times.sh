#!/usr/bin/env bash
# Times the learner's loop: save a kata's file, run `make test KATA=<id>`, and measure how long
# until the first verdict line appears and until the whole verdict (TSan included) is printed.
#   scripts/loop-times.sh [kata ids...]      (default: every kata; RUNS=5 saves per state)
# Three states of the learner's code per kata:
#   starter   katas/<dir>/ as shipped
#   broken    the starter with a half-written line appended (it does not compile)
#   solution  solutions/<dir>/ copied over katas/<dir>/
# Prints the median of RUNS saves per state, in seconds. The kata's folder is put back at the
# end, whatever happens; still, run it in a clone you are not editing (it writes into katas/).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
ids=("$@")
if [ ${#ids[@]} -eq 0 ]; then
  mapfile -t ids < <(grep -o '"id": "[0-9][0-9][a-z]"' curriculum.json | cut -d'"' -f4)
fi
make -s tutor >/dev/null

backup=$(mktemp -d)
restore() {
  for dir in "$backup"/*/; do
    [ -d "$dir" ] || continue
    name=$(basename "$dir")
    # Fresh times (cp -r, not -a): with the backup's older ones, the next build would take the
    # last state's objects as up to date and keep grading that state.
    rm -rf "katas/$name" && cp -r "$dir" "katas/$name"
  done
  rm -rf "$backup"
}
trap restore EXIT

# One save and one run; prints "<first verdict s> <complete s>".
time_one() {
  local id=$1 start first="" line
  start=$EPOCHREALTIME
  while IFS= read -r line; do
    if [ -z "$first" ] && [[ "$line" =~ ^\ \ (PASS|FAIL|TIMEOUT|CRASH|BUILD\ ERROR) ]]; then
      first=$EPOCHREALTIME
    fi
  done < <(make -s test KATA="$id" 2>&1 || true)
  local end=$EPOCHREALTIME
  awk -v s="$start" -v f="${first:-$end}" -v e="$end" 'BEGIN { printf "%.2f %.2f\n", f - s, e - s }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-5s %-9s %14s %14s\n' kata state "first verdict" complete
for id in "${ids[@]}"; do
  dir=$(grep -o "\"$id-[a-z0-9-]*\"" curriculum.json | head -1 | tr -d '"')
  cp -a "katas/$dir" "$backup/$dir"
  files=$(find "katas/$dir" -type f | sort)
  for state in starter broken solution; do
    rm -rf "katas/$dir" && cp -a "$backup/$dir" "katas/$dir"
    case $state in
      broken) echo 'this line is half written (' >>"$(echo "$files" | head -1)" ;;
      solution) cp -a "solutions/$dir/." "katas/$dir/" ;;
    esac
    times=$(for _ in $(seq "$runs"); do
      touch $files
      time_one "$id"
    done)
    printf '%-5s %-9s %13ss %13ss\n' "$id" "$state" \
      "$(cut -d' ' -f1 <<<"$times" | median)" "$(cut -d' ' -f2 <<<"$times" | median)"
  done
  rm -rf "katas/$dir" && cp -r "$backup/$dir" "katas/$dir" && rm -rf "${backup:?}/$dir"
done
