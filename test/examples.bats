#!/usr/bin/env bats
# Every command example of every man page (its EXAMPLES section) and of
# the README (its ```sh blocks) runs verbatim. test/examples.sh extracts
# them mechanically, so a new example is run without editing this file.
#
# Each example runs in a fresh directory holding the fixtures below,
# with bash (pipefail, errexit), in a session of its own (whatever it
# leaves in the background is killed when it ends), and must exit 0
# within 20 s. The examples of one file share one namespace (CONC_DIR),
# in order, as for a reader who tries them one after another: `sem stat
# downloads` shows the semaphore an earlier example used. A block that
# is a Makefile runs with make -j2.
#
# The commands that examples call and that are no part of concutils
# (postgres, npm, pg_dump, ImageMagick, the placeholders ./api,
# ./handle, ./render, ./server, prepare, phase1 ...) are stood in by small scripts
# that behave plausibly; $url is a URL of a fixture file, and curl reads
# https:// URLs from the fixtures too (no network).
#
# Some examples need more than one shell; the table in how_to_run says,
# by a piece of their text, how each is run:
#   forever ERE  it runs until stopped (a service stack): its output must
#                come to match ERE while it still runs; then SIGTERM to
#                its session must end it and everything it started.
#   partner CMD  it waits for another process (a setter, a producer):
#                CMD runs beside it, in either order; both must exit 0.
#   copies N     it is what each of N processes runs (barrier parties):
#                N copies run at once, copy I with n=I; all must exit 0.
#   skip REASON  it needs what a test machine has not (ssh hosts, Slurm).
#
# EXAMPLES_TIMES=1 prints how long each example took (with -j1 bats).
# shellcheck disable=SC2016

load helper

# how_to_run TEXT: set $how to the way to run the example TEXT (see
# above), or to nothing for an example that runs alone.
how_to_run() {
	how=
	case $1 in
	# Services: the stacks of parallel(1) and the README.
	*'--restart always'*) how='forever ^web \| ' ;;
	*"'tail -f app.log'"*) how='forever ^log \| ' ;;
	*"-f Procfile -p '{time} {name} | '"*)
		how='forever [0-9]{2}:[0-9]{2}:[0-9]{2} web \| ' ;;
	*'-n api,worker'*) how='forever ^api +\| listening' ;;
	# Waiters and consumers, and who wakes them.
	*'queue get --name urgent later'*) how='partner queue put urgent "disk full"' ;;
	*'t=$(queue get tasks)'*) how='partner queue put tasks t1' ;;
	*'until [ -e out/result ]'*)
		how='partner mkdir -p out && touch out/result && event notify --all files' ;;
	*'while ! ready'*) how='partner make-ready && event notify --all c' ;;
	# Barrier parties.
	*'barrier wait -n 4 -i elect'*) how='copies 4' ;;
	*'phase1 "$n"'*) how='copies 3' ;;
	# Other machines: test/remote.bats and test/slurm.bats run these forms.
	*'-S 4/node1'* | *'-S node1,node2'* | *' -H master '*)
		how='skip needs ssh hosts (test/remote.bats runs -S and -H)' ;;
	*'#SBATCH'*) how='skip needs a Slurm cluster (test/slurm.bats runs --slurm)' ;;
	esac
}

# stub NAME TEXT: an executable script NAME running TEXT with sh.
stub() {
	printf '#!/bin/sh\n%s\n' "$2" >"$1"
	chmod +x "$1"
}

# fixtures: what the examples expect to find where they run (stand-ins
# for other programs in stub/, the placeholders in .); made once, copied
# for each example.
fixtures() {
	mkdir -p stub img thumbs sub data frames incoming src dst
	# ImageMagick: convert writes its last argument, identify prints a
	# size.
	stub stub/convert 'for a; do :; done; echo converted >"$a"'
	stub stub/identify 'echo 1x1'
	# curl: file:// URLs from the file, others from data/; -O writes the
	# URL's base name, else standard output.
	stub stub/curl 'o=; for a; do case $a in -*O*) o=1 ;; -*) ;; *) u=$a ;; esac; done
case $u in file://*) f=${u#file://} ;; *) f=${0%/*}/../data/${u##*/} ;; esac
if [ -n "$o" ]; then cat "$f" >"${u##*/}"; else cat "$f"; fi'
	# Services that run until stopped, saying when they are ready.
	# postgres listens on the port of -p (on 127.0.0.1); a port another
	# program holds already is just as ready for a tcp: check.
	stub stub/postgres 'p=5432; while [ $# -gt 0 ]; do [ "$1" = -p ] && p=$2; shift; done
exec python3 -c "
import socket, sys, time
try:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((\"127.0.0.1\", $p)); s.listen(8)
except OSError:
    pass
print(\"database system is ready to accept connections\", file=sys.stderr, flush=True)
time.sleep(3600)
"'
	stub stub/npm 'echo "npm $*: serving"; exec sleep 3600'
	stub api 'echo "listening on ${2:-8080}"; exec sleep 3600'
	# A program that writes its log only to the file of --log-file.
	stub server 'while [ $# -gt 0 ]; do [ "$1" = --log-file ] && f=$2; shift; done
printf "starting\nserving\nstopping\n" >"$f"'
	# Commands that do their part and exit.
	stub stub/prepare 'echo "prepared $1"'
	stub stub/loadgen 'echo "load $1"'
	stub stub/create-schema 'echo schema'
	stub stub/phase1 'echo "part $1"'
	stub stub/phase2 'cat >/dev/null'
	stub stub/start-db 'echo started'
	stub stub/pg_dump 'echo "-- dump of $1"'
	stub stub/make-ready 'touch made-ready'
	stub stub/ready 'test -e made-ready'
	for p in handle work worker deploy.sh sync.sh big-job small-job; do
		stub "$p" 'echo "$0 $*"'
	done
	# A renderer: writes the image beside the scene.
	touch frames/1.blend frames/2.blend
	stub render 'echo rendered >"${1%.blend}.png"'
	# A mirror that answers only for m2.
	stub fetch-from '[ "$1" = m2 ]'
	# make: the targets the examples name.
	printf 'all lint test docs:\n\t@echo made $@\nwatch:\n\t@echo watching; exec sleep 3600\n' >Makefile
	echo a >a.log
	echo b >sub/b.log
	echo started >app.log
	seq 1000 | sed 's/^1.*/ERROR &/' >big.log
	touch 1.png 2.png img/x.jpg img/y.jpg incoming/f1 incoming/f2 src/s
	echo old >app.conf
	echo new >app.conf.new
	for u in u1 u2; do
		echo "$u" >"data/$u"
		echo "file://$PWD/data/$u"
	done >urls.txt
	tar cf data/big.tar data/u1 data/u2
	tar cf x.tar data/u1
	tar cf y.tar data/u2
	printf 'old,new\na,b\n' >renames.csv
	printf 'db: postgres -D data -p 5432\napi: ./api --port 8080\nweb: npm run dev\n' >Procfile
	touch a
}

# start TEXT: run the shell text TEXT in the background, in a session
# of its own; $! is its process id, which is the session's id.
start() {
	setsid bash -e -o pipefail -c "$1" &
}

# reap PID: wait for the session leader PID, 20 s at most (then it is
# killed), and kill what is left of its session; returns PID's status.
reap() {
	local st
	wait20 "$1"
	st=$?
	pkill -KILL -s "$1"
	return "$st"
}

# wait20 PID: wait for PID (a session leader) for up to 20 s; its status,
# or 124 once its group has been killed at the deadline.
wait20() {
	local st w first
	sleep 20 &
	w=$!
	wait -n -p first "$1" "$w"
	st=$?
	if [ "$first" = "$w" ]; then
		echo "timed out"
		kill -KILL -- "-$1"
		wait "$1"
		st=124
	else
		kill "$w"
		wait "$w"
	fi
	return "$st"
}

# session SID: list the processes of session SID that still run (a
# zombie has ended: init reaps it); fails if there are none.
session() {
	ps -e -o sid=,stat=,pid=,args= |
	    awk -v s="$1" '$1 == s && $2 !~ /^Z/ { print; n++ } END { exit !n }'
}

# run_one TEXT HOW: run the example TEXT here, as HOW says (see above).
run_one() {
	local text=$1 how=$2 i pid st=0 pids=()
	PATH="$PWD/stub:$PATH"
	export url="file://$PWD/data/u1"
	if [[ $text =~ ^(\.PHONY|[A-Za-z0-9_.-]+): ]]; then
		printf '%s' "$text" >Makefile && timeout 20 make -s -j2
		return
	fi
	case $how in
	'')
		start "$text"
		reap $!
		;;
	partner\ *)
		start "${how#partner }"
		pid=$!
		start "$text"
		reap $! || st=$?
		reap "$pid" || st=$?
		return "$st"
		;;
	copies\ *)
		for ((i = 1; i <= ${how#copies }; i++)); do
			n=$i start "$text"
			pids+=($!)
		done
		for pid in "${pids[@]}"; do reap "$pid" || st=$?; done
		return "$st"
		;;
	forever\ *)
		start "$text" >forever.out 2>&1
		pid=$!
		# It shows that it works, and is still running.
		for ((i = 0; i < 400; i++)); do
			grep -Eq "${how#forever }" forever.out && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		cat forever.out
		if ! grep -Eq "${how#forever }" forever.out ||
		    ! kill -0 "$pid"; then
			echo "no '${how#forever }' while running"
			reap "$pid"
			return 1
		fi
		# It stops on SIGTERM, and all it started with it.
		kill -TERM -- "-$pid"
		wait20 "$pid"
		st=$?
		[ "$st" -eq 143 ] || { echo "status $st after SIGTERM"; return 1; }
		# Its shell may end before the commands it started have: give
		# them 10 s to go.
		for ((i = 0; i < 200; i++)); do
			session "$pid" >/dev/null || break
			sleep 0.05
		done
		if session "$pid"; then
			echo "left running"
			pkill -KILL -s "$pid"
			return 1
		fi
		;;
	esac
}

setup_file() {
	mkdir "$BATS_FILE_TMPDIR/fixtures"
	cd "$BATS_FILE_TMPDIR/fixtures" && fixtures
}

# run_examples FILE [FIRST LAST]: run every example of FILE (see
# test/examples.sh); fail naming each one that does not run.
run_examples() {
	local rec where text how n=0 bad=0 dir t0
	export CONC_DIR="$BATS_TEST_TMPDIR/ns"
	while IFS= read -r -d '' rec; do
		where=${rec%%$'\n'*}
		text=${rec#*$'\n'}
		n=$((n + 1))
		how_to_run "$text"
		if [ "${how%% *}" = skip ]; then
			echo "# skipped $where: ${how#skip }" >&3
			continue
		fi
		dir="$BATS_TEST_TMPDIR/ex$n"
		cp -a "$BATS_FILE_TMPDIR/fixtures" "$dir"
		t0=${EPOCHREALTIME/./}
		(cd "$dir" && run_one "$text" "$how") \
		    >"$dir.out" 2>&1 </dev/null || {
			echo "$where failed${how:+ ($how)}:"
			echo "$text"
			cat "$dir.out"
			bad=1
		}
		[ -z "${EXAMPLES_TIMES:-}" ] ||
		    echo "# $(((${EPOCHREALTIME/./} - t0) / 1000)) ms $where" >&3
	done < <(sh "$TOP/test/examples.sh" "$@")
	[ "$n" -gt 0 ] || { echo "no examples found in $*"; return 1; }
	return "$bad"
}

@test "every example of pool(1) runs verbatim" {
	run_examples "$TOP/man/pool.1"
}

@test "every example of parallel(1) runs verbatim" {
	run_examples "$TOP/man/parallel.1"
}

@test "every example of queue(1) runs verbatim" {
	run_examples "$TOP/man/queue.1"
}

@test "every example of sem(1) runs verbatim" {
	run_examples "$TOP/man/sem.1"
}

@test "every example of barrier(1) runs verbatim" {
	run_examples "$TOP/man/barrier.1"
}

@test "every example of event(1) runs verbatim" {
	run_examples "$TOP/man/event.1"
}

@test "every example of the README runs verbatim" {
	run_examples "$TOP/README.md"
}

@test "every man page with examples is run here" {
	local page
	for page in "$TOP"/man/*.[0-9]; do
		grep -q '^\.Sh EXAMPLES' "$page" || continue
		page=${page##*/}
		grep -q "^@test \"every example of ${page%.*}(${page##*.})" \
		    "$BATS_TEST_FILENAME" || { echo "$page: no test"; return 1; }
	done
}
