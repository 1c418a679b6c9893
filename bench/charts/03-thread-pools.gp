# Charts of bench/03-thread-pools_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".TaskCost.tsv", data.".CpuMap.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (ns).

set terminal svg size 820,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror

# ---- What one task costs, per way of running it --------------------------------------------
set output out."/03-thread-pools-task-cost.svg"
set title "One empty task, run elsewhere: time per task (median; log scale)"
set ylabel "ns per task"
set logscale y
set yrange [10:*]
set format y "%.0s%c"
set style fill solid 0.85 border -1
set boxwidth 0.6
set xtics rotate by 0
plot data.".TaskCost.tsv" using 0:4:xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:4:(sprintf("%.0f ns", $4)) with labels offset 0,0.8 notitle

# ---- A CPU-bound map: time against chunk size ---------------------------------------------
unset logscale y
set output out."/03-thread-pools-map-chunks.svg"
set title "map() of 20,000 CPU-bound calls on 2 workers, by chunk size (median)"
set format y "%g"
set xlabel "chunk size (inputs per task; log scale)"
set ylabel "ms per map"
set logscale x 2
set yrange [0:*]
set xrange [0.7:*]
set key top right
# The sequential loop is the row without an argument; 1/0 makes every other row undefined.
stats data.".CpuMap.tsv" using (strcol(1) eq "sequential" ? $3 / 1e6 : 1/0) nooutput
sequential = STATS_max
plot data.".CpuMap.tsv" using 2:($3 / 1e6) with linespoints lw 2 pt 7 lc rgb "#4477aa" \
       title "map on a pool of 2 workers", \
     sequential with lines dt 2 lw 2 lc rgb "#cc6677" title sprintf("sequential loop (%.1f ms)", sequential), \
     sequential / 2 with lines dt 3 lw 2 lc rgb "#228833" title "sequential / 2 (perfect on 2 cores)"
