# plot.gnuplot — draws the engine/baseline ratio of every row of a rhei_bench run (the .tsv
# written next to the JSON) as bars on a log scale; 1x is parity with the raw baseline.
#   gnuplot bench/plot.gnuplot                      (reads bench/results/latest.tsv)
#   gnuplot -e "data='x.tsv'; out='x.png'" bench/plot.gnuplot
if (!exists("data")) data = "bench/results/latest.tsv"
if (!exists("out")) out = "bench/results/ratios.png"

set terminal pngcairo size 1500,900 font ",9"
set output out
set title "Rhei vs raw baselines, same run (ratio > 1: engine faster)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set logscale y 10
set yrange [0.01:1000]
set ylabel "engine speed / baseline speed"
set xtics rotate by -90 left nomirror
set grid ytics
set key off
set rmargin 14
set bmargin 24
set datafile separator "\t"
set datafile missing "nan"
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "red" dt 2
plot data using 5:xtic(1) lc rgb "#4a7bb7"
