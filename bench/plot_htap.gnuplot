# plot_htap.gnuplot — per-second series of the htap workload (bench/results/htap.tsv, written
# by `rhei_bench --only htap`): tpmC (left axis) and analytical freshness p99 (right axis).
#   gnuplot bench/plot_htap.gnuplot        (run from the repository root)
if (!exists("data")) data = "bench/results/htap.tsv"
if (!exists("out")) out = "bench/results/htap.png"

set terminal pngcairo size 1100,560 font ",9"
set output out
set title "Rhei HTAP (CH-benCHmark style): tpmC and HATtrick freshness p99 per second\nphases: oltp-alone-1, htap-eventual, htap-strong, oltp-busy-core, oltp-alone-2 (sync every 10 ms)"
set datafile separator "\t"
set datafile missing "nan"
set key top left box opaque
set grid ytics
set xlabel "second of the run"
set ylabel "tpmC (New-Orders per minute)"
set y2label "freshness p99 (ms)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:60<*]   # the 50 ms target line always in view
set arrow from graph 0, second 50 to graph 1, second 50 nohead lc rgb "red" dt 2
set label "50 ms target" at graph 0.01, second 53 tc rgb "red"
plot data using 1:3 skip 1 with linespoints lw 2 pt 7 ps 0.5 lc rgb "#4a7bb7" title "tpmC", \
     data using 1:5 skip 1 axes x1y2 with linespoints lw 1.5 pt 5 ps 0.5 lc rgb "#d95f02" title "freshness p99 (ms)"
