#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016,SC1083
# pool(1) for GNU parallel and xargs users: input sources (::: ::::),
# replacement strings, --shell, --dry-run, --results, --colsep, --header,
# and the limits on one item. Where GNU parallel is installed, a table of
# command lines is compared with its output (test/pool-gnu.bats).

load helper

# ------------------------------------------------------------ one item's size

@test "an item longer than one argument can hold is refused, in constant memory" {
	# 131071 bytes (MAX_ARG_STRLEN less its NUL) still runs.
	head -c 131071 /dev/zero | tr '\0' x >max
	run -0 pool sh -c 'echo ${#1}' sh <max
	[ "$output" = 131071 ]
	# One byte more can never be exec'd: status 125, one line.
	{ cat max; printf x; } >over
	run -125 pool true <over
	[ "$output" = "pool: item 1: longer than 131071 bytes, the most one argument can hold" ]
	# An endless item ends with the same error, not with all the memory:
	# the address space is capped far below what buffering it would take
	# (not under AddressSanitizer, which reserves more than any cap).
	lim='ulimit -v 200000;'
	! grep -q san "$TOP/bin/.flavour" 2>/dev/null || lim=
	run -125 sh -c "$lim cat /dev/zero | pool true"
	[[ $output == *"item 1: longer than 131071 bytes"* ]]
	# The items before it have run.
	{ printf 'a\nb\n'; cat over; } >mixed
	run -125 pool -k -j1 echo <mixed
	[ "${lines[0]}" = a ]
	[ "${lines[1]}" = b ]
	[[ ${lines[2]} == *"item 3: longer than"* ]]
}

# ------------------------------------------------------------ sources

@test "::: gives the items on the command line, and stdin is left alone" {
	printf 'in\n' >stdin
	run -0 sh -c 'pool -k echo ::: a "b c" && cat' <stdin
	[ "$output" = "$(printf 'a\nb c\nin')" ]
	# Each value is one argument, never split.
	run -0 pool -k sh -c 'echo $#' sh ::: 'a b' 'c'
	[ "$output" = "$(printf '1\n1')" ]
	# An empty list runs nothing.
	run -0 pool echo :::
	[ -z "$output" ]
}

@test "several sources: the cartesian product, the last fastest; :::+ and ::::+ link" {
	printf 'f1\nf2\n' >fa
	printf 'g1\ng2\ng3\n' >fb
	run -0 pool -k echo ::: 1 2 ::: a b
	[ "$output" = "$(printf '1 a\n1 b\n2 a\n2 b')" ]
	run -0 pool -k echo ::: 1 2 3 :::+ a b
	[ "$output" = "$(printf '1 a\n2 b')" ]
	run -0 pool -k echo :::: fa ::::+ fb
	[ "$output" = "$(printf 'f1 g1\nf2 g2')" ]
	run -0 pool -k -a fa -a fb echo {2}-{1}
	[ "${#lines[@]}" = 6 ]
	[ "${lines[0]}" = g1-f1 ]
	[ "${lines[5]}" = g3-f2 ]
	# -a with ::: is allowed; -a - and :::: - are stdin.
	run -0 pool -k -a - echo ::: x <fa
	[ "$output" = "$(printf 'f1 x\nf2 x')" ]
	run -0 pool -k echo ::: x :::: - <fa
	[ "$output" = "$(printf 'x f1\nx f2')" ]
}

@test "the first source is read lazily: an endless stdin with other sources runs" {
	run -0 sh -c 'yes | pool -k -j1 --halt soon,done=4 echo :::: - ::: a b'
	[ "$output" = "$(printf 'y a\ny b\ny a\ny b')" ]
	# The others are held whole: an endless one is an error, not all
	# the memory.
	run -125 sh -c 'yes | pool echo ::: a :::: -'
	[ "$output" = "pool: standard input: more than 64 MiB of items, too many to hold (only the first source is read as it comes: give this one first)" ]
	run -0 sh -c 'yes | head -3 | pool -k echo :::: - ::: a b'
	[ "$output" = "$(printf 'y a\ny b\ny a\ny b\ny a\ny b')" ]
}

@test "{N} and its modifiers, {} with several values as separate words" {
	run -0 pool -k echo {1/} {1//} {1.} {1/.} {2} ::: /d/f.tar.gz ::: x
	[ "$output" = "f.tar.gz /d /d/f.tar f.tar x" ]
	# -n 3: {} is three arguments, not one with spaces.
	run -0 pool -k -n 3 sh -c 'echo $#' sh {} ::: a b c d
	[ "$output" = "$(printf '3\n1')" ]
	run -0 pool -k sh -c 'echo $# $1' sh x{}y ::: a ::: 'b c'
	[ "$output" = "2 xa" ]
	# A value that is not there is empty, and a word made of nothing
	# else is no word at all (GNU parallel's shell line has nothing
	# there).
	run -0 pool -k echo [{3}] ::: a ::: b
	[ "$output" = "[]" ]
	run -0 pool -k sh -c 'echo $# "$*"' sh {3} a{3}b {3/} {2} ::: a ::: b
	[ "$output" = "2 ab b" ]
	run -0 pool -k sh -c 'echo $# "$*"' sh {1} {2} ::: '' :::+ x
	[ "$output" = "2  x" ]
	run -0 pool -k --shell 'printf "[%s]" {3} a{3}b; echo' ::: a
	[ "$output" = "[ab]" ]
	# No word left at all: nothing runs, and that succeeds (GNU
	# parallel's empty shell line).
	run -0 pool {3} ::: a
	[ -z "$output" ]
	run -0 pool -n 0 {} ::: a b
	[ -z "$output" ]
}

@test "-n 0 runs the command once per item without the item" {
	run -0 pool -k -n 0 sh -c 'echo $# "$*"' sh {} x{}y {1} {#} ::: a 'b c'
	[ "$output" = "$(printf '2 xy 1\n2 xy 2')" ]
	run -0 pool -k -n 0 sh -c 'echo $# "$*"' sh x{}y ::: a b ::: c
	[ "$output" = "$(printf '2 x y\n2 x y')" ]
	printf '1\n2\n3\n' >in
	run -0 pool -k -n0 echo hi <in
	[ "$output" = "$(printf 'hi\nhi\nhi')" ]
	run -0 pool -k -n0 --shell 'echo [{}]' <in
	[ "$output" = "$(printf '[]\n[]\n[]')" ]
	run -0 pool -k -n0 --tag echo hi ::: a b
	[ "$output" = "$(printf '\thi\n\thi')" ]
}

@test "-X: as many items as fit in a command line, {} repeating its word" {
	run -0 pool -k -j1 -X echo x{}y z {} {1} ::: 1 2 3
	[ "$output" = "x1y x2y x3y z 1 2 3 1" ]
	run -0 pool -k -j1 -X echo ::: 1 2 3
	[ "$output" = "1 2 3" ]
	run -0 pool -k -j1 -X -n 2 echo x{}y ::: 1 2 3
	[ "$output" = "$(printf 'x1y x2y\nx3y')" ]
	# At the end of the input the items are shared out among the slots.
	run -0 pool -k -j3 -X echo {.} ::: 1.a 2 3 4 5 6 7
	[ "$output" = "$(printf '1 2 3\n4 5 6\n7')" ]
	# --shell: the blank-delimited word around {} repeats.
	run -0 pool -k -j1 -X --shell 'echo  a{}b  "{}"' ::: 1 "x'y"
	[ "$output" = "a1b ax'yb 1 'x'\\''y'" ]
	# An item that would not fit starts a new job; every item runs once.
	seq 50000 >many
	pool -k -j2 -X sh -c 'printf "%s\n" "$@"; echo END' sh i{}i <many >out
	[ "$(grep -c END out)" -gt 2 ]
	grep -v END out | sed 's/^i//; s/i$//' | cmp - many
	pool -k -j2 -X --shell 'printf "%s\n" i{}i ; echo END' <many >out
	[ "$(grep -c END out)" -gt 2 ]
	grep -v END out | sed 's/^i//; s/i$//' | cmp - many
}

@test "-I STR stands for {}, -P is -j, -j 0 runs as many as it can, -r is accepted" {
	run -0 pool -k -I XX -r -P 2 echo XX-XX {} ::: a b
	[ "$output" = "$(printf 'a-a {}\nb-b {}')" ]
	run -0 --separate-stderr pool -j 0 -k echo ::: a b c
	[ "$output" = "$(printf 'a\nb\nc')" ]
	# When the open files bound it, one warning says so.
	[ "${#stderr_lines[@]}" -le 1 ]
	run -125 pool -I '' echo ::: a
	[ "$output" = "pool: -I: empty (see pool --help)" ] || [[ $output == "pool: -I: empty"* ]]
}

@test "a replacement string in the command name" {
	printf '#!/bin/sh\necho one "$@"\n' >one
	printf '#!/bin/sh\necho two "$@"\n' >two
	chmod +x one two
	run -0 pool -k {} x ::: ./one ./two
	[ "$output" = "$(printf 'one x\ntwo x')" ]
	run -0 pool -k {1} {2} ::: ./one ::: a b
	[ "$output" = "$(printf 'one a\none b')" ]
}

@test "-t prints each command line on stderr before it runs" {
	run -0 --separate-stderr pool -t -k echo ::: a 'b c'
	[ "$output" = "$(printf 'a\nb c')" ]
	[ "$stderr" = "$(printf "echo a\necho 'b c'")" ]
}

@test "pool says once that it reads items from the terminal" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -0 sh -c 'printf "x\n" | script -qec "pool -k echo" /dev/null'
	[[ $output == *"pool: reading items from the terminal"* ]]
	[ "$(grep -c 'reading items' <<<"$output")" = 1 ]
	# Not when the items come from elsewhere.
	run -0 sh -c 'printf "" | script -qec "pool -k echo ::: a" /dev/null'
	[[ $output != *"reading items"* ]]
}

@test "--shuf runs every job once, in a random order" {
	run -0 pool --shuf -j1 echo ::: 1 2 3 ::: a b :::+ x y
	[ "$(sort <<<"$output")" = "$(printf '%s\n' '1 a x' '1 b y' '2 a x' '2 b y' '3 a x' '3 b y')" ]
	# From stdin, with -n: every item once.
	run -0 sh -c 'seq 100 | pool --shuf -j1 -n 3 printf "%s\n" | sort -n'
	[ "$output" = "$(seq 100)" ]
	# 20 jobs in input order by chance: 1 in 20!; a failure here is a
	# broken shuffle, not bad luck.
	run -0 pool --shuf -j1 echo ::: $(seq 20)
	[ "$output" != "$(seq 20)" ]
}

# ------------------------------------------------------------ --shell

@test "--shell runs a line with sh, every value quoted: hostile items stay data" {
	run -0 pool -k --shell 'echo {} | tr a-z A-Z' ::: "it's" '$(touch pwned)' \
	    'a`touch pwned`' 'x;touch pwned' "$(printf 'two\nlines')" '*' ''
	[ "$output" = "$(printf '%s\n' "IT'S" '$(TOUCH PWNED)' 'A`TOUCH PWNED`' \
	    'X;TOUCH PWNED' TWO LINES '*' '')" ]
	[ ! -e pwned ]
	# Without a replacement string the values are appended, quoted.
	run -0 pool -k -c 'printf "<%s>"' ::: 'a b' '$x'
	[ "$output" = '<a b><$x>' ]
	# ${name} in the line is the shell's.
	run -0 pool --header : -c 'echo ${0##*/} {h}' ::: h v
	[ "$output" = "sh v" ]
}

# ------------------------------------------------------------ --dry-run

@test "--dry-run prints every job's command line in input order and runs nothing" {
	run -0 --separate-stderr pool -j 4 --dry-run touch ran-{} ::: 1 2 3 'a b' "it's"
	[ "$output" = "$(printf '%s\n' 'touch ran-1' 'touch ran-2' 'touch ran-3' \
	    "touch 'ran-a b'" "touch 'ran-it'\\''s'")" ]
	[ -z "$stderr" ]
	[ ! -e ran-1 ]
	# --shell: the line itself; a missing command is no error.
	run -0 pool --dry-run -c 'nosuchcmd {} | wc' ::: 'x y'
	[ "$output" = "nosuchcmd 'x y' | wc" ]
	run -0 pool --dry-run nosuchcmd ::: a
	[ "$output" = "nosuchcmd a" ]
}

# ------------------------------------------------------------ --colsep, --header

@test "--colsep splits lines into {1} {2}...; one character is literal, '\\t' a TAB" {
	printf 'a.b\tc\n' >in
	run -0 pool -k --colsep . echo {2} {1} <in
	[ "$output" = "$(printf 'b\tc a')" ]
	run -0 pool -k --colsep '\t' echo {2} <in
	[ "$output" = "c" ]
	run -0 pool -k --colsep $'[.\t]' echo {3}{2}{1} <in
	[ "$output" = "cba" ]
}

@test "--header : names the columns, --header N skips lines" {
	printf 'name,size\nx,1\ny,2\n' >in
	run -0 pool -k --colsep , --header : echo {size}:{name} <in
	[ "$output" = "$(printf '1:x\n2:y')" ]
	run -0 pool -k --header 2 echo <in
	[ "$output" = "y,2" ]
	run -0 pool -k --header : echo {a}{b} ::: a 1 2 ::: b 3
	[ "$output" = "$(printf '13\n23')" ]
}

# ------------------------------------------------------------ --results

@test "--results DIR: stdout, stderr and seq per job in GNU parallel's layout" {
	run -0 pool --results out -c 'echo o{}; echo e{} >&2' ::: a/b x
	[ -z "$output" ]
	[ "$(cat 'out/1/a\_b/stdout')" = "oa/b" ]
	[ "$(cat 'out/1/a\_b/stderr')" = "ea/b" ]
	[ "$(cat out/1/x/seq)" = 2 ]
	# . and .. stay inside DIR.
	run -0 pool --results dots echo ::: . ..
	[ -f 'dots/1/\./stdout' ]
	[ -f 'dots/1/\../stdout' ]
	# Failed jobs count as usual.
	run -2 pool --results st sh -c 'exit 1' ::: a b
}

@test "--results FILE.csv is read back whole by Python's csv module" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	printf 'a,"b"\n' >v1
	printf 'line1\nline2\r\n' >v2
	run -0 pool -k --results r.csv cat :::: - <<-EOF
	v1
	v2
	EOF
	python3 - <<-'EOF'
	import csv
	rows = list(csv.DictReader(open("r.csv", newline="")))
	assert [r["Seq"] for r in sorted(rows, key=lambda r: r["Seq"])] == ["1", "2"]
	by = {r["V1"]: r for r in rows}
	assert by["v1"]["Stdout"] == 'a,"b"\n', by
	assert by["v2"]["Stdout"] == "line1\nline2\r\n", by
	assert by["v1"]["Exitval"] == "0" and by["v1"]["Command"] == "cat v1"
	assert int(by["v2"]["Receive"]) == 13
	EOF
}

# seqs FILE: the Seq of each row of a --results table, in file order.
seqs() {
	python3 - "$1" <<-'PY'
	import csv, json, sys
	p = sys.argv[1]
	if p.endswith(".json"):
	    rows = [json.loads(l) for l in open(p)]
	else:
	    d = "\t" if p.endswith(".tsv") else ","
	    rows = list(csv.DictReader(open(p, newline=""), delimiter=d))
	print(*[r["Seq"] for r in rows])
	PY
}

@test "--results FILE.csv with -k: rows in input order, as GNU parallel writes them" {
	# Job 1 ends only after the others have: it waits until their
	# --joblog lines are in, which pool writes just before their rows.
	wait1='if [ {} = 1 ]; then until [ $(wc -l <log) -gt $N ]; do sleep 0.01; done; fi'
	export N=2
	for f in k.csv k.json k.tsv; do
		rm -f log
		run -0 pool -j3 -k --joblog log --results "$f" --shell "$wait1; echo {}" ::: 1 2 3
		[ "$(seqs "$f")" = "1 2 3" ]
	done
	# Without -k, the order they finished in.
	rm -f log
	run -0 pool -j3 --joblog log --results u.csv --shell "$wait1; echo {}" ::: 1 2 3
	[ "$(seqs u.csv | cut -d' ' -f3)" = 1 ]
	# Many rows held while job 1 runs: all there, in order, whole.
	rm -f log
	export N=299
	run -0 pool -j4 -k --joblog log --results m.csv --shell "$wait1; echo '{} a,b'" ::: $(seq 300)
	python3 - <<-'PY'
	import csv
	rows = list(csv.DictReader(open("m.csv", newline="")))
	assert [r["Seq"] for r in rows] == [str(i) for i in range(1, 301)], rows
	assert all(r["Stdout"] == r["V1"] + " a,b\n" for r in rows), rows
	PY
	# Rows held when --halt stops pool are written all the same.
	rm -f log
	export N=2
	run -1 pool -j3 -k --halt now,fail=1 --joblog log --results h.csv --shell "$wait1; [ {} != 3 ]" ::: 1 2 3
	[ "$(seqs h.csv)" = "1 2 3" ]
}

@test "--results FILE.csv keeps memory bounded: a job's big output goes through a file" {
	! grep -q san "$TOP/bin/.flavour" 2>/dev/null ||
	    skip "sanitizers inflate the resident size"
	command -v /usr/bin/time >/dev/null || skip "time(1) is not installed"
	run -0 /usr/bin/time -f '%M' pool --results big.csv \
	    sh -c 'head -c 64000000 /dev/zero | tr "\0" x' ::: a
	# 64 MB of output; pool's largest resident size stays far below.
	[ "${lines[-1]}" -lt 20000 ]
	[ "$(stat -c %s big.csv)" -gt 64000000 ]
}

# ------------------------------------------------------------ --bar

@test "--bar in a terminal never erases a job's partial line, and ends clean" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -0 script -qec "pool -k --bar sh -c 'printf partial-\$1' sh ::: a b" /dev/null </dev/null
	[[ $output == *partial-apartial-b* ]]
	# Nothing erases from the partial line to the end of its line.
	rest=${output#*partial-a}
	upto=${rest%%$'\n'*}
	[[ $upto != *$'\e[K'* ]]
	# The last line is the bar's, complete.
	[[ $output == *"pool: 2/2 done, 0 failed"* ]]
	last=${output##*$'\n'}
	[[ $last == $'\r\e[Kpool: 2/2 done, 0 failed'* ]]
}

@test "--total gives the bar its total up front; --eta prints GNU parallel's ETA line" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -0 script -qec "seq 3 | pool --total 3 --bar true" /dev/null </dev/null
	[[ $output == *"pool: 3/3 done"* ]]
	# ::: sources are counted before the first job.
	run -0 script -qec "pool --bar true ::: a b ::: c d" /dev/null </dev/null
	[[ $output == *"pool: 4/4 done"* ]]
	run -0 script -qec "pool --eta true ::: a b" /dev/null </dev/null
	[[ $output == *"ETA: "*" Left: 0 AVG: "*"local:0/2/100%/"* ]]
	# Not a terminal: no line at all.
	run -0 pool --bar --eta true ::: a
	[ -z "$output" ]
}

# ------------------------------------------------------------ killed jobs

@test "a job killed by a signal, --timeout or --halt gets one line; --quiet silences it" {
	run -1 --separate-stderr pool sh -c 'kill -SEGV $$' ::: x.png
	[ "$stderr" = "pool: job 1 (x.png): killed by signal 11 (Segmentation fault)" ]
	run -1 --separate-stderr pool --timeout 0.2 sleep ::: 30
	[ "$stderr" = "pool: job 1 (30): timed out after 0.2s" ]
	# Both jobs start in the same turn; b is running when a fails.
	run -3 --separate-stderr pool -j2 --halt now,fail=1 \
	    sh -c '[ "$1" = b ] && exec sleep 30; exit 3' sh ::: a b
	[ "$stderr" = "pool: job 2 (b): stopped by --halt" ]
	run -1 --separate-stderr pool --quiet sh -c 'kill -SEGV $$' ::: x.png
	[ -z "$stderr" ]
	# SIGPIPE gets none: the job wrote to a reader that had gone (as
	# every -u job does once pool's reader goes; pool's 141 says it).
	run -1 --separate-stderr pool sh -c 'kill -PIPE $$' ::: x
	[ -z "$stderr" ]
	# Control characters in the values do not break the line.
	run -1 --separate-stderr pool sh -c 'kill -TERM $$' ::: "$(printf 'a\nb')"
	[ "$stderr" = "pool: job 1 (a?b): killed by signal 15 (Terminated)" ]
}

# ------------------------------------------------------------ bad input

@test "bad sources, names, patterns and paths: 125 and one line before any job" {
	printf 'h\n1\n' >in
	run -125 pool --pipe wc ::: a
	[[ $output == "pool: --pipe reads stdin or one -a FILE"* ]]
	run -125 pool --header : touch {nope} ::: h x
	[ "$output" = "pool: {nope}: no column of that name in the header" ]
	run -125 pool --colsep '(a' touch x ::: a
	[[ $output == "pool: --colsep (a: "* ]]
	run -125 pool --header x touch x ::: a
	[ "$output" = "pool: --header x: not ':' or a number of lines" ]
	run -125 pool --results /proc/nope/r.csv touch x ::: a
	[[ $output == "pool: --results /proc/nope/r.csv: "* ]]
	run -125 pool --results /proc/nope touch x ::: a
	[[ $output == "pool: --results /proc/nope: "* ]]
	run -125 pool touch x ::::
	[ "$output" = "pool: ::::: no file given" ]
	run -125 pool touch x :::: nosuchfile
	[[ $output == "pool: open nosuchfile: "* ]]
	run -125 pool -n 2 touch x ::: a ::: b
	[[ $output == "pool: -n and -X cannot be combined with several input sources or --colsep;"* ]]
	run -125 pool -X touch x ::: a ::: b
	[[ $output == "pool: -n and -X cannot be combined with several input sources or --colsep;"* ]]
	run -125 pool -X --colsep , touch x ::: a
	[[ $output == "pool: -n and -X cannot be combined with several input sources or --colsep;"* ]]
	run -125 pool -X -n 0 touch x ::: a
	[[ $output == "pool: -X cannot be combined with -n 0;"* ]]
	run -125 pool --pipe -X touch x <in
	[[ $output == "pool: --pipe cannot be combined with -n, -X or --tag;"* ]]
	run -125 pool --pipe -n 0 touch x <in
	[[ $output == "pool: --pipe cannot be combined with -n, -X or --tag;"* ]]
	run -125 pool ::: a
	[[ $output == "pool: no command given"* ]]
	[ ! -e x ]
}

# ------------------------------------------------------------ the docs

# mdoc_lines: the .Dl lines of pool(1)'s EXAMPLES that use the forms
# above, with mdoc's escapes undone.
mdoc_lines() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$TOP/man/pool.1" |
	    grep -E '^\.Dl .*(:::|--dry-run)' |
	    sed -e 's/^\.Dl //' -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

@test "pool(1)'s and the README's examples of these forms run verbatim" {
	printf 'old,new\na,b\n' >renames.csv
	touch a
	mkdir frames
	touch frames/1.blend
	printf '#!/bin/sh\n' >render
	chmod +x render
	n=0
	while IFS= read -r line; do
		run -0 bash -c "$line"
		n=$((n + 1))
	done < <(mdoc_lines)
	[ "$n" -ge 4 ]
	[ -e b ] && [ ! -e a ]
	[ "$(head -1 runs.csv)" = "Seq,Host,Starttime,JobRuntime,Send,Receive,Exitval,Signal,Command,V1,Stdout,Stderr" ]
	# The README's block.
	sed -n '/^# Every pair of a size/,/^```/p' "$TOP/README.md" | grep -v '^[#`]' >readme.sh
	[ "$(wc -l <readme.sh)" = 3 ]
	run -0 bash readme.sh
	[ "${lines[0]}" = "size S colour red" ]
	[ "${lines[7]}" = '$(ID)' ]
	[ "${lines[8]}" = "-ia.txt -ib.txt -ic.txt" ]
	# Rendered, '.' and '.PHONY' survive mdoc.
	if command -v mandoc >/dev/null; then
		run -0 mandoc -Tascii "$TOP/man/pool.1"
		[[ $output == *"find . -name '*.log'"* ]]
		[[ $output == *".PHONY: thumbs"* ]]
	fi
}
