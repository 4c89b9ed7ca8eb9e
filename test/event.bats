#!/usr/bin/env bats
# event: threading.Event and Condition's notify for processes. Waiting
# states are observed through `event stat`, never guessed with sleep.

load helper

# field NAME KEY: one value from 'event stat NAME'.
field() {
	event stat "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

# waiters NAME N: exactly N live processes wait on NAME.
waiters() {
	[ "$(field "$1" waiters)" = "$2" ]
}

# alive PID...: every process still runs (not even a zombie).
alive() {
	local p s
	for p in "$@"; do
		s=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$p/stat" 2>/dev/null) || return 1
		[ -n "$s" ] && [ "$s" != Z ] || return 1
	done
}

@test "set, clear and is-set: 0 when set, 1 when clear; the event is created clear" {
	run -1 event is-set e
	[ "$(field e state)" = clear ]
	run -0 event set e
	run -0 event is-set e
	[ "$(field e state)" = set ]
	run -0 event set e
	run -0 event is-set e
	run -0 event clear e
	run -1 event is-set e
}

@test "wait returns at once when set; --nowait is 75 when clear, 0 when set" {
	run -75 event wait --nowait e
	[ -z "$output" ]
	run -75 event wait -w e
	event set e
	run -0 event wait e
	run -0 event wait --nowait e
	run -0 event wait -t 0 e
}

@test "--timeout: 124 with one line, and the waiter no longer counts" {
	run -124 event wait --timeout 0.1 e
	one_line
	[ "$output" = "event: e: timed out" ]
	run -124 event wait -t 0 e
	waiters e 0
	[ "$(field e generation)" = 0 ]
}

@test "set wakes a waiter, which exits 0; clear afterwards strands nobody" {
	bg event wait e
	local p=$!
	wait_for waiters e 1
	event set e
	event clear e
	wait_status "$p" 0
	waiters e 0
	run -1 event is-set e
}

@test "wait -- CMD executes CMD once woken; its status passes through" {
	bg event wait e -- sh -c 'echo ran >out; exit 7'
	local p=$!
	wait_for waiters e 1
	[ ! -e out ]
	event set e
	wait_status "$p" 7
	[ "$(cat out)" = ran ]
	run -0 event wait e -- echo hello
	[ "$output" = hello ]
}

@test "wait -- CMD: a command that cannot run is 127/126 at once, before any wait" {
	run -127 event wait e -- no-such-command-xyz
	one_line
	[[ "$output" == *"no-such-command-xyz"* ]]
	printf 'echo x\n' >noexec
	chmod 644 noexec
	run -126 event wait e -- ./noexec
	one_line
	# Refused before the event was even opened: it does not exist.
	run -125 event stat e
}

@test "one set releases 200 waiters" {
	local pids=() i
	for ((i = 0; i < 200; i++)); do
		bg event wait e
		pids+=($!)
	done
	wait_for waiters e 200
	event set e
	for i in "${pids[@]}"; do
		wait_status "$i" 0
	done
	waiters e 0
	[ "$(field e generation)" = 1 ]
}

@test "notify -n 1 wakes exactly the oldest waiter, -n 2 the next two, --all the rest" {
	local p=() i
	for i in 0 1 2 3 4; do
		bg event wait e
		p+=($!)
		wait_for waiters e $((i + 1))
	done
	event notify -n 1 e
	wait_status "${p[0]}" 0
	waiters e 4
	alive "${p[1]}" "${p[2]}" "${p[3]}" "${p[4]}"
	event notify --count 2 e
	wait_status "${p[1]}" 0
	wait_status "${p[2]}" 0
	waiters e 2
	alive "${p[3]}" "${p[4]}"
	event notify --all e
	wait_status "${p[3]}" 0
	wait_status "${p[4]}" 0
	waiters e 0
	# notify never sets the event; each notify is one generation.
	run -1 event is-set e
	[ "$(field e generation)" = 3 ]
}

@test "notify with nobody waiting advances the generation and wakes nobody later" {
	[ "$(event gen e)" = 0 ]
	event notify e
	[ "$(event gen e)" = 1 ]
	event notify --all e
	[ "$(event gen e)" = 2 ]
	run -124 event wait -t 0.05 e
}

@test "wait --since GEN returns at once after a set or notify since GEN, else waits" {
	g=$(event gen e)
	run -124 event wait --since "$g" -t 0.05 e
	event notify e
	run -0 event wait --since "$g" e
	g=$(event gen e)
	run -75 event wait --since "$g" --nowait e
	bg event wait --since "$g" e
	local w=$!
	wait_for waiters e 1
	event notify e
	wait_status "$w" 0
	run -125 event wait --since -1 e
	run -125 event wait --since x e
}

# The shell's Condition.wait_for (event(1)): the waiter checks a
# condition and sleeps with the generation it read before the check; the
# other side changes the state, then notifies. (A reader may see the
# file empty while it is rewritten: that is "not yet", and the notify
# that follows the write wakes it.) A lost wake-up would hang
# a round; every wait has a generous timeout so that a loss fails the
# test instead of hanging it.
condition_wait_for() { # condition_wait_for EVENT FILE VALUE
	local g v
	g=$(event gen "$1") || return 1
	read -r v <"$2" || v=
	while [ "$v" != "$3" ]; do
		event wait --since "$g" -t 60 "$1" || return 1
		g=$(event gen "$1") || return 1
		read -r v <"$2" || v=
	done
}

ping() {
	local i
	for ((i = 1; i <= 1000; i++)); do
		echo "$i" >state
		event notify --all c || return 1
		condition_wait_for a ack "$i" || { echo "ping lost round $i" >>fail; return 1; }
	done
}

pong() {
	local i
	for ((i = 1; i <= 1000; i++)); do
		condition_wait_for c state "$i" || { echo "pong lost round $i" >>fail; return 1; }
		echo "$i" >ack
		event notify --all a || return 1
	done
}

@test "the generation pattern never loses a wake-up in 1000 notify/check rounds" {
	: >state
	: >ack
	bg pong
	local w=$!
	run -0 ping
	wait_status "$w" 0
	[ ! -e fail ]
	[ "$(cat state)" = 1000 ]
	[ "$(cat ack)" = 1000 ]
}

@test "waiters killed with SIGKILL at any instant leave nothing: stat counts the living, set still works" {
	local i p
	# Killed at a random instant of their start, or while waiting.
	for ((i = 0; i < 100; i++)); do
		event wait e &
		p=$!
		((i % 2)) || wait_for waiters e 1
		kill -9 "$p"
		wait "$p" 2>/dev/null || true
	done 2>/dev/null
	waiters e 0
	# A dead waiter older than every live one: notify skips the dead.
	local live=()
	for i in 0 1 2; do
		event wait e &
		p=$!
		wait_for waiters e $((${#live[@]} + 1))
		kill -9 "$p"
		wait "$p" 2>/dev/null || true
		bg event wait e
		live+=($!)
		wait_for waiters e "${#live[@]}"
	done
	event notify -n 1 e
	wait_status "${live[0]}" 0
	waiters e 2
	alive "${live[1]}" "${live[2]}"
	event set e
	wait_status "${live[1]}" 0
	wait_status "${live[2]}" 0
	waiters e 0
	[ "$(field e generation)" = 2 ]
}

@test "a setter killed with SIGKILL leaves the event set or not, never half" {
	local r p w=() i st
	for ((r = 0; r < 40; r++)); do
		w=()
		for i in 0 1 2; do
			bg event wait e
			w+=($!)
		done
		wait_for waiters e 3
		g=$(event gen e)
		event set e &
		p=$!
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		st=$(field e state)
		if [ "$st" = set ]; then
			waiters e 0
			[ "$(event gen e)" = $((g + 1)) ]
		else
			[ "$st" = clear ]
			waiters e 3
			[ "$(event gen e)" = "$g" ]
			event set e
		fi
		for i in "${w[@]}"; do
			wait_status "$i" 0
		done
		event clear e
	done
}

@test "stat is key<TAB>value lines; ls lists every event, tab-separated" {
	event create a
	event create --set b
	queue create q
	run -0 event stat b
	[ "$output" = "$(printf 'name\tb\nstate\tset\ngeneration\t0\nwaiters\t0')" ]
	run -0 event ls
	[ "$output" = "$(printf 'a\tclear\t0\t0\nb\tset\t0\t0')" ]
	run -0 event ls --header
	[ "$output" = "$(printf 'name\tstate\tgeneration\twaiters\na\tclear\t0\t0\nb\tset\t0\t0')" ]
}

@test "create: --mode sets the permission bits; an existing event is left as it is" {
	event create --mode 640 m
	[ "$(stat -c %a "$CONC_DIR/m")" = 640 ]
	event set m
	event create m
	run -0 event is-set m
	event create --set n
	event clear n
	event create --set n
	run -1 event is-set n
	run -125 event create --mode 400 o
}

@test "rm removes the event; its waiters exit 1" {
	bg event wait e
	local p=$!
	wait_for waiters e 1
	run -0 event rm e
	wait_status "$p" 1
	run -125 event stat e
	one_line
	[ "$output" = "event: e: no such event" ]
	run -125 event rm e
	event create a
	event create b
	run -0 event rm a b
	run -0 event ls
	[ -z "$output" ]
}

@test "usage errors: 125 with one line; an option after NAME gets a hint" {
	run -125 event
	one_line
	[[ "$output" == "event: missing subcommand; usage: "* ]]
	run -125 event frob e
	[[ "$output" == "event: unknown subcommand 'frob'; usage: "* ]]
	run -125 event wait
	[[ "$output" == *"missing NAME"* ]]
	run -125 event wait e --timeout 5
	one_line
	[[ "$output" == *"option '--timeout' after NAME (options go before NAME)"* ]]
	run -125 event set e -x
	[[ "$output" == *"option '-x' after NAME"* ]]
	run -125 event wait e true
	[[ "$output" == *"put '--' before a command"* ]]
	run -125 event wait e --
	[[ "$output" == *"missing command after '--'"* ]]
	run -125 event set e f
	[[ "$output" == *"unexpected operand 'f'"* ]]
	run -125 event set --all e
	[[ "$output" == *"option '--all' is not for 'event set'"* ]]
	run -125 event notify -n 2 --all e
	run -125 event notify -n 0 e
	run -125 event wait --nowait -t 1 e
	run -125 event wait -t -1 e
	run -125 event ls x
	run -125 event rm
	run -125 event stat a b
	# Nothing was created by the refused commands but 'e' itself, if at all.
	run -0 event ls
	[[ "$output" != *frob* ]]
}

@test "an object of another kind is refused" {
	queue create q
	run -125 event set q
	one_line
	[[ "$output" == *"q: not an event (another kind of object)"* ]]
}
