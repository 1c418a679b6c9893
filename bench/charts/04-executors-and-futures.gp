# Charts of bench/04-executors-and-futures_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".SubmitCost.tsv", data.".Fib.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label, 2 argument, 3 real time (ns), 4 per_task (ns).

set terminal svg size 820,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6

# ---- A task whose result comes back through a future (oneTBB: through a slot) ---------------
set output out."/04-executors-and-futures-submit-cost.svg"
set title "One task with a result, on 2 threads: time per task (median; log scale)"
set ylabel "ns per task"
set logscale y
set yrange [10:*]
set format y "%.0s%c"
plot data.".SubmitCost.tsv" using 0:4:xtic(strcol(1)) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:4:(sprintf("%.0f ns", $4)) with labels offset 0,0.8 notitle

# ---- A recursion whose tasks wait for their subtasks ------------------------------------------
unset logscale y
set output out."/04-executors-and-futures-fib.svg"
set title "fib(30) in tasks down to fib(18), 2 threads (median)"
set ylabel "ms"
set format y "%g"
set yrange [0:*]
plot data.".Fib.tsv" using 0:($3 / 1e6):xtic(strcol(1)) with boxes lc rgb "#228833" notitle, \
     "" using 0:($3 / 1e6):(sprintf("%.2f ms", $3 / 1e6)) with labels offset 0,0.8 notitle
