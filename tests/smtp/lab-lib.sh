# lab-lib.sh: SMTP pieces for the lab tests (after tests/lab/lib.sh):
# a signature database, sinks in namespaces, moatd in the gateway.
db="$tmp/db"
chmod 755 "$tmp"
sh "$smtp/sigdb.sh" "$db"

# sink NS ADDR DIR [PORT]: a recording SMTP server
sink() {
	mkdir -p "$3"
	ip netns exec "$MOAT_LAB$1" python3 "$smtp/sink.py" "${4:-25}" "$3" --host "$2" >"$3.log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 50); do
		grep -q ready "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "sink $2 in $1 did not start: $(cat "$3.log")"
}

# count DIR: messages a sink has
count() {
	ls "$1" | grep -c '\.eml$'
}

# delivered_with_header DIR HEADER: the last message has HEADER first
delivered_with_header() {
	n=$(count "$1")
	if [ "$n" -ge 1 ] && head -1 "$1/$n.eml" | grep -q "^$2"; then
		echo "ok: delivered with '$2'"
	else
		fail "no message with '$2' in $1"
	fi
}
