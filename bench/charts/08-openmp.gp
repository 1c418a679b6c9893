# Charts of bench/08-openmp_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".Schedule.tsv", data.".Pi.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (unused here).
# Each bar is labelled with its time and its ratio to the first bar of its chart (1 thread).

set terminal svg size 900,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6
set xtics rotate by -20

# ---- Imbalanced work on 2 threads, by schedule ---------------------------------------------
set output out."/08-openmp-schedule.svg"
set title "256 Mandelbrot rows of very different cost, on 1 thread or 2, by schedule (median wall time)"
set ylabel "ms"
set yrange [0:*]
stats data.".Schedule.tsv" every ::0::0 using 3 nooutput
base = STATS_max
plot data.".Schedule.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.1f ms\n×%.2f", $3 / 1e6, $3 / base)) with labels offset 0,1.4 notitle

# ---- π on 2 threads, added up in each way (log scale) --------------------------------------
set output out."/08-openmp-pi.svg"
set title "π over 2^19 steps on 2 threads, by the way the terms are added up (median; log scale)"
set ylabel "ms"
set logscale y
set yrange [0.1:*]
stats data.".Pi.tsv" every ::0::0 using 3 nooutput
base = STATS_max
plot data.".Pi.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#cc6677" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.1f ms\n×%.2f", $3 / 1e6, $3 / base)) with labels offset 0,1.4 notitle
