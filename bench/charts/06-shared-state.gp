# Charts of bench/06-shared-state_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".Increment.tsv", data.".Counters.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (ns per increment).
# Each bar is labelled with its time and its ratio to the first bar of its chart.

set terminal svg size 900,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6

# ---- One shared counter: atomic, mutex, unsynchronised; 1 and 2 threads --------------------
set output out."/06-shared-state-increment.svg"
set title "One increment of a shared counter, as each thread sees it (median; log scale)"
set ylabel "ns per increment"
set logscale y
set yrange [0.1:*]
set format y "%g"
stats data.".Increment.tsv" every ::0::0 using 4 nooutput
base = STATS_max
plot data.".Increment.tsv" using 0:4:xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:4:(sprintf("%.1f ns\n×%.2f", $4, $4 / base)) with labels offset 0,1.4 notitle

# ---- Two threads, a counter each: a cache line apart or packed ----------------------------
unset logscale y
set output out."/06-shared-state-counters.svg"
set title "2 threads, each incrementing its own counter: time per increment (median)"
set ylabel "ns per increment"
set yrange [0:*]
stats data.".Counters.tsv" every ::0::0 using 4 nooutput
base = STATS_max
plot data.".Counters.tsv" using 0:4:xtic(strcol(1)) with boxes lc rgb "#228833" notitle, \
     "" using 0:4:(sprintf("%.1f ns\n×%.2f", $4, $4 / base)) with labels offset 0,1.4 notitle
