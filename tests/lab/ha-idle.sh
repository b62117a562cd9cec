#!/bin/sh
# ha-idle.sh MOAT MOATD: what a steady HA pair costs at rest, for
# bench/bench_ha_idle.sh (not a test: it prints a figure and checks
# nothing): the CPU of each node's moatd, of its children it reaped and of
# its askers alive (moatd-ask: the hellos to the peer every 2 s), over 30 s
# once both nodes have their state.
LAB=$(cd "$(dirname "$0")/../.." && pwd)/scripts/halab.sh
. "$(dirname "$0")/lib.sh"
smtp="$top/tests/smtp"
. "$smtp/lab-lib.sh"
. "$here/ha-lib.sh"
node_conf a
node_conf b
start_node a
start_node b
wait_state a master
wait_state b backup
sleep 5
cpu() {	# moatd, its reaped children, and its askers alive
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat")
	for c in $(pgrep -x -P "$1" moatd-ask); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat")))
	done
	echo $t
}
a0=$(cpu $pid_a); b0=$(cpu $pid_b)
sleep 30
a1=$(cpu $pid_a); b1=$(cpu $pid_b)
hz=$(getconf CLK_TCK)
echo "figure: 30 s steady: gwa moatd, children and askers $(( (a1 - a0) * 1000 / hz )) ms, gwb $(( (b1 - b0) * 1000 / hz )) ms"
kill $pid_a $pid_b 2>/dev/null
wait $pid_a $pid_b 2>/dev/null
finish
