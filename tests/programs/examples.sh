#!/bin/sh
# The examples under `helhost run`: ping-pong and the echo server with several clients.
# usage: examples.sh HELHOST PP_SERVER PP_CLIENT ECHO_SERVER ECHO_CLIENT
set -u
if [ $# -ne 5 ]; then
	echo "usage: $0 HELHOST PP_SERVER PP_CLIENT ECHO_SERVER ECHO_CLIENT" >&2
	exit 2
fi
emu=$1 pp_server=$2 pp_client=$3 echo_server=$4 echo_client=$5
fail=0
out=$(mktemp) ; trap 'rm -f "$out"' EXIT

# A hung run must not hang the test: every run gets 60 s.
run() { timeout -k 5 60 "$emu" run "$@" >"$out" 2>&1; }

# run's status, then the number of latency lines expected from the clients.
check() { # description, status, expected latency lines, client name
	lines=$(grep -c "^$4.*: .*median [0-9.]* us, p99 [0-9.]* us, [0-9]* messages/s" "$out")
	if [ "$2" = 0 ] && [ "$lines" = "$3" ]; then
		echo "ok: $1"
		grep "median" "$out" | sed 's/^/    /'
	else
		echo "FAIL: $1 (status $2, $lines of $3 latency lines); output:"
		sed 's/^/    /' "$out"
		fail=1
	fi
}

run "$pp_server" -- "$pp_client" -n 1000 -s 8
check "ping-pong, 1000 x 8 bytes" $? 1 pp-client
run "$pp_server" -- "$pp_client" -n 200 -s 65536
check "ping-pong, 200 x 64 KiB" $? 1 pp-client
run "$pp_server" -- "$pp_client" -n 200 -s 100 -o
check "ping-pong, an offer per request" $? 1 pp-client

run "$echo_server" -- "$echo_client" -- "$echo_client" -- "$echo_client"
check "echo server, 3 clients" $? 3 echo-client
run "$echo_server" -c 8 -- "$echo_client" -- "$echo_client" -- "$echo_client" -- "$echo_client" \
	-- "$echo_client" -- "$echo_client" -- "$echo_client" -- "$echo_client"
check "echo server, 8 clients" $? 8 echo-client
exit $fail
