# Completion-time CDFs, one panel per loss rate, one line per implementation.
# gnuplot -e "datadir='DIR'; out='FILE.png'; losses='0 10 30 50'; impls='petrel ...'; cap=120; hs='TITLE'" bench/plot_cdf.gp
# hs names the handshake in the title (default: the PSK one).
# DIR holds cdf_LOSS_IMPL.dat files ("seconds fraction" lines) written by
# bench/hsbench.py report. Runs that failed never complete, so a line that
# ends below 1 shows the share of failures.

if (!exists("cap")) cap = 120
if (!exists("hs")) hs = "DTLS 1.2 PSK handshake (TLS\\_PSK\\_WITH\\_AES\\_128\\_CCM\\_8)"
n = words(losses)
cols = (n > 1) ? 2 : 1
rows = int((n + cols - 1) / cols)

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1400, 540 * rows font "Sans,11" linewidth 1.5
} else {
    set terminal png size 1400, 540 * rows font "Sans,11" linewidth 2
}
set output out

set logscale x 10
set xrange [0.1:cap * 1.05]
set yrange [0:1.02]
set xtics ("0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "120" 120)
set ytics 0.2
set mytics 2
set grid xtics ytics mytics lc rgb "#dddddd"
set xlabel "handshake completion time (s, log scale; spawn of the client -> handshake complete)"
set ylabel "fraction of runs completed"
set key outside top center horizontal samplen 3
set arrow 1 from cap, graph 0 to cap, graph 1 nohead dt 2 lc rgb "#888888"
set label 1 "cap" at cap, graph 0.97 right offset -0.5, 0 tc rgb "#666666"

# petrel, petrel-lossy, openssl, gnutls
color(i) = word("#1f77b4 #17becf #d62728 #2ca02c #9467bd #ff7f0e", i)
dash(i) = (i <= 2) ? 1 : 2

set multiplot layout rows, cols title hs . "\nthrough petrel proxy, 25 ms one-way delay, same seeds for every implementation\n" font "Sans,13"
do for [p = 1:n] {
    L = word(losses, p)
    set title sprintf("%s %% loss in both directions", L)
    plot for [i = 1:words(impls)] sprintf("%s/cdf_%s_%s.dat", datadir, L, word(impls, i)) \
        using 1:2 with steps lw 2 lc rgb color(i) dt dash(i) title word(impls, i)
}
unset multiplot
