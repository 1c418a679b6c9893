# Charts of bench/05-process-pools_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".SmallTask.tsv", data.".CpuMap.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (ns).

set terminal svg size 820,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6

# ---- A tiny task: to another process and back, or to another thread -------------------------
set output out."/05-process-pools-small-task.svg"
set title "A tiny task (8 bytes in, 8 out), 2 workers: time per task (median; log scale)"
set ylabel "ns per task"
set logscale y
set yrange [10:*]
set format y "%.0s%c"
plot data.".SmallTask.tsv" using 0:4:xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:4:(sprintf("%.0f ns", $4)) with labels offset 0,0.8 notitle

# ---- A CPU-bound map: sequential, threads, processes -----------------------------------------
unset logscale y
set output out."/05-process-pools-cpu-map.svg"
set title "map() of 20,000 CPU-bound calls in chunks of 2,500, 2 workers (median)"
set ylabel "ms per map"
set format y "%g"
set yrange [0:*]
plot data.".CpuMap.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#228833" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.1f ms", $3 / 1e6)) with labels offset 0,0.8 notitle
