# Charts of bench/07-onetbb_bench.cpp, drawn by bench/charts/plot.sh, which sets
#   data  the prefix of the tables (data.".Balanced.tsv", data.".Unbalanced.tsv")
#   out   the folder the SVG files go to
# Table columns: 1 label (the runtime), 2 argument (unused), 3 real time (ns), 4 per_task (unused).
# Each bar is one runtime's speed-up over the family's sequential row, labelled with the speed-up
# and the median time. The benchmark interleaves its repetitions at random, so the rows come in
# any order: each is placed by its label.

set terminal svg size 820,460 dynamic noenhanced font "sans,12" background "white"
set datafile separator "\t"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.85 border -1
set boxwidth 0.6
set ylabel "speed-up over sequential"
set yrange [0:*]
set key top left
set xrange [-0.6:5.6]
set xtics ("sequential" 0, "threads" 1, "pool (lesson 03)" 2, "oneTBB" 3, "OpenMP" 4, "std::execution::par" 5)
at(label) = label eq "sequential" ? 0 : label eq "threads" ? 1 : label eq "pool" ? 2 : \
            label eq "onetbb" ? 3 : label eq "openmp" ? 4 : label eq "par" ? 5 : 1/0

# ---- Balanced: π by the midpoint rule, every step the same cost -----------------------------
set output out."/07-onetbb-balanced.svg"
set title "π by the midpoint rule, 50 million steps: speed-up over one thread, on every core (median)"
stats data.".Balanced.tsv" using (strcol(1) eq "sequential" ? $3 : 1/0) nooutput
base = STATS_max
plot data.".Balanced.tsv" using (at(strcol(1))):(base / $3) with boxes lc rgb "#4477aa" notitle, \
     "" using (at(strcol(1))):(base / $3):(sprintf("×%.2f\n%.1f ms", base / $3, $3 / 1e6)) with labels offset 0,1.4 notitle, \
     1.8 with lines dt 2 lw 2 lc rgb "#cc6677" title "target on 2 cores: ×1.8"

# ---- Unbalanced: Mandelbrot rows, nearly all the work in the lower half ---------------------
set output out."/07-onetbb-unbalanced.svg"
set title "Mandelbrot rows, the costly ones first: speed-up over one thread, on every core (median)"
stats data.".Unbalanced.tsv" using (strcol(1) eq "sequential" ? $3 : 1/0) nooutput
base = STATS_max
plot data.".Unbalanced.tsv" using (at(strcol(1))):(base / $3) with boxes lc rgb "#228833" notitle, \
     "" using (at(strcol(1))):(base / $3):(sprintf("×%.2f\n%.1f ms", base / $3, $3 / 1e6)) with labels offset 0,1.4 notitle
