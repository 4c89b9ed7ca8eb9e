#!/usr/bin/env bats
# The rules every named object shares (concutils(7), "Named objects"),
# checked through all the tools that own objects: queue, sem, barrier, event.

load helper

@test "objects are created mode 0600 inside a 0700 namespace directory" {
	for t in queue sem barrier event; do
		make_obj "$t" "o-$t"
		[ "$(stat -c %a "$CONC_DIR/o-$t")" = 600 ]
	done
	[ "$(stat -c %a "$CONC_DIR")" = 700 ]
}

@test "bad names are refused with 125 and one line, and nothing is created" {
	long=$(printf '%0300d' 0)
	refused "" . .. .hidden $'a\nb' $'tab\tx' "$long" "dir/"
	[ -z "$(ls -A "$CONC_DIR" 2>/dev/null)" ]
}

@test "a name with a slash is a path" {
	mkdir d
	for t in queue sem barrier event; do
		make_obj "$t" "$PWD/d/p-$t"
		[ -f "d/p-$t" ]
		run -0 look "$t" "d/p-$t"
	done
}

@test "an object of another kind is refused with 125" {
	queue create q
	sem run s true
	barrier wait -n 1 b
	run -125 sem value q;     one_line; [[ "$output" == *"not a semaphore"* ]]
	run -125 barrier stat q;  one_line; [[ "$output" == *"not a barrier"* ]]
	run -125 queue size s;    one_line; [[ "$output" == *"not a queue"* ]]
	run -125 queue put b msg; one_line
	run -125 sem run b true;  one_line
	# and nothing was changed
	run -0 queue size q;  [ "$output" = 0 ]
	run -0 sem value s;   [ "$output" = 1 ]
}

@test "a file of random bytes where an object should be gives 125, not a crash" {
	mkdir -p "$CONC_DIR"
	for size in 0 1 31 32 64 4096 65536; do
		head -c "$size" /dev/urandom >"$CONC_DIR/junk"
		cp "$CONC_DIR/junk" before
		for t in queue sem barrier event; do
			run -125 look "$t" junk
			one_line
			run -125 make_obj "$t" junk
		done
		cmp before "$CONC_DIR/junk"
	done
}

@test "an object replaced by a symlink or a FIFO is refused, without hanging" {
	for t in queue sem barrier event; do
		make_obj "$t" "real-$t"
		ln -s "real-$t" "$CONC_DIR/link-$t"
		run -125 look "$t" "link-$t"
		one_line
		mkfifo "$CONC_DIR/fifo-$t"
		run -125 look "$t" "fifo-$t"
		one_line
		run -125 make_obj "$t" "fifo-$t"
	done
}

@test "a symlinked, foreign or group-writable namespace directory is refused" {
	mkdir -m 700 elsewhere
	ln -s elsewhere "$CONC_DIR"
	for t in queue sem barrier event; do
		run -125 make_obj "$t" x
		one_line
		[[ "$output" == *"symbolic link"* ]]
	done
	rm "$CONC_DIR"
	mkdir -m 770 "$CONC_DIR"
	for t in queue sem barrier event; do
		run -125 make_obj "$t" x
		[[ "$output" == *"writable by group or others"* ]]
	done
	chmod 700 "$CONC_DIR"
	if [ "$(id -u)" = 0 ]; then
		chown 65534 "$CONC_DIR"
		for t in queue sem barrier event; do
			run -125 make_obj "$t" x
			[[ "$output" == *"owned by another user"* ]]
		done
	fi
	[ -z "$(ls -A elsewhere)" ]
}

@test "many processes creating the same object at once end up with one object" {
	for t in queue sem barrier event; do
		pids=()
		for i in $(seq 1 20); do
			case $t in
			queue) queue put --nowait "race-$t" "m$i" & ;;
			sem) sem run -n 3 "race-$t" true & ;;
			barrier) barrier wait -n 1 "race-$t" & ;;
			event) event set "race-$t" & ;;
			esac
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p"; done
	done
	run -0 queue size race-queue; [ "$output" = 20 ]
	run -0 sem value race-sem;    [ "$output" = 3 ]
	run -0 barrier stat race-barrier
	run -0 event gen race-event; [ "$output" = 20 ]
	[ -z "$(find "$CONC_DIR" -name '.*')" ]
}

@test "a creator killed with SIGKILL at any point leaves a whole object or nothing, no hidden file" {
	# Kills land before, during and after creation (64 MiB to write):
	# whatever they hit, the directory holds only whole objects.
	for i in $(seq 1 30); do
		queue create --size 64M "k$i" 2>/dev/null &
		p=$!
		case $((i % 3)) in
		0) ;;
		1) wait_for test -e "$CONC_DIR" ;;
		2) sleep 0.00$((i % 7)) ;; # spreads the kills; not a synchronisation
		esac
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "$(find "$CONC_DIR" -name '.*' ! -path "$CONC_DIR")" ]
	for f in "$CONC_DIR"/*; do
		[ -e "$f" ] || continue
		run -0 queue size "${f##*/}"
		[ "$output" = 0 ]
	done
}

@test "an object file of another user is refused with 125 unless CONC_SHARED is set; root's and our own are used (issue 24 point 2)" {
	[ "$(id -u)" = 0 ] || skip "needs root to chown"
	mkdir -m 1777 shared
	for t in queue sem barrier event; do
		make_obj "$t" "shared/$t"
		chmod 666 "shared/$t"
		run -0 look "$t" "shared/$t"        # root's own
		chown 65534 "shared/$t"
		run -125 look "$t" "shared/$t"
		one_line
		[ "$output" = "$t: shared/$t: owned by another user (uid 65534); set CONC_SHARED=1 to use other users' objects" ]
		run -125 make_obj "$t" "shared/$t"
		one_line
		CONC_SHARED=1 run -0 look "$t" "shared/$t"
	done
	# The queue kept to what it was: nothing was put or taken.
	CONC_SHARED=1 run -0 queue size shared/queue
	[ "$output" = 0 ]
	# Root's objects are used by everyone.
	if command -v setpriv >/dev/null; then
		d=$(mktemp -d)
		chmod 755 "$d"
		sem create --mode 666 "$d/r"
		run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		    sem value "$d/r"
		rm -rf "$d"
		[ "$output" = 1 ]
	fi
}
