# Charts of bench/09-the-gil_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".CpuBound.tsv", data.".Convoy.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (unused here).
# Each bar is labelled with its time and its ratio to the first bar of its chart.

set terminal svg size 900,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6
set xtics rotate by -20

# ---- The same CPU-bound work on 1 and 2 threads, under each GIL --------------------------
set output out."/09-the-gil-cpu-bound.svg"
set title "2 x 20,000 units of bytecode, on 1 thread or 2 (median wall time)"
set ylabel "ms"
set yrange [0:*]
stats data.".CpuBound.tsv" every ::0::0 using 3 nooutput
base = STATS_max
plot data.".CpuBound.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.1f ms\n×%.2f", $3 / 1e6, $3 / base)) with labels offset 0,1.4 notitle

# ---- The convoy effect: 20 short I/Os alone and beside a CPU-bound thread (log scale) -----
set output out."/09-the-gil-convoy.svg"
set title "20 I/Os of 100 us, each followed by 1 unit of bytecode: the I/O thread's time (median; log scale)"
set ylabel "ms"
set logscale y
set yrange [0.5:*]
stats data.".Convoy.tsv" every ::0::0 using 3 nooutput
base = STATS_max
plot data.".Convoy.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#cc6677" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.1f ms\n×%.1f", $3 / 1e6, $3 / base)) with labels offset 0,1.4 notitle
