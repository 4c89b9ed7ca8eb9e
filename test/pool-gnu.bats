#!/usr/bin/env bats
# shellcheck disable=SC2016
# pool against GNU parallel: the same command lines give the same output.
# GNU parallel (Debian's package installs it as /usr/bin/parallel, a name
# our parallel shares; PATH has our bin/ first, so it is called by its
# full path) runs every command through a shell, pool runs it directly:
# rows marked SH give pool --shell. Skipped where GNU parallel is missing.

load helper

GNU=/usr/bin/parallel

test_setup() {
	"$GNU" --version 2>/dev/null | grep -q '^GNU parallel' ||
	    skip "GNU parallel is not installed"
	# GNU parallel keeps state under $HOME/.parallel.
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME/.parallel"
	touch "$HOME/.parallel/will-cite"
	printf 'f1\nf2\n' >fa
	printf 'g1\ng2\ng3\n' >fb
	printf 'a,b\nc,d\n' >csv
	printf 'a\tb\nc d\te\n' >tsv
	printf 'n,m\n1,2\n3,4\n' >h.csv
	printf 'p\0q r\0' >z
}

# same ROW: pool and GNU parallel print the same on stdout for the words
# of ROW (SH: --shell for pool, nothing for GNU parallel); STDIN, when
# set, is both commands' standard input.
same() {
	local -a w p g
	eval "w=($1)"
	for x in "${w[@]}"; do
		if [ "$x" = SH ]; then p+=(--shell); else p+=("$x"); g+=("$x"); fi
	done
	pool "${p[@]}" <"${STDIN:-/dev/null}" >pool.out 2>pool.err || true
	"$GNU" "${g[@]}" <"${STDIN:-/dev/null}" >gnu.out 2>gnu.err || true
	if ! cmp -s pool.out gnu.out; then
		echo "row: $1"
		diff pool.out gnu.out
		return 1
	fi
}

@test "the same output as GNU parallel: sources, linking and the cartesian product" {
	same "-k echo ::: a b c"
	same "-k echo ::: 1 2 ::: a b"
	same "-k echo ::: 1 2 ::: a b ::: x y"
	same "-k echo ::: 1 2 3 :::+ a b c"
	same "-k echo ::: 1 2 3 :::+ a b"
	same "-k echo ::: 1 2 :::+ a b ::: x y"
	same "-k -a fa echo ::: x y"
	same "-k -a fa -a fb echo"
	same "-k echo :::: fa fb"
	same "-k echo :::: fa ::::+ fb"
	same "-k echo ::: 1 2 ::::+ fa fb"
	STDIN=fa same "-k echo {1} :::: - ::: x y"
	STDIN=fa same "-k -a - echo ::: x"
	same "-k -0 -a z echo"
	same "-k -n 3 echo ::: 1 2 3 4 5 6 7"
}

@test "the same output as GNU parallel: replacement strings" {
	same "-k echo {2}-{1} ::: a b ::: x y"
	same "-k echo {} ::: a b ::: c d"
	same "-k echo x{}y ::: a b ::: c d"
	same "-k -n2 echo x{}y ::: a b c d"
	same "-k -n2 echo {1} {2} ::: a b c d"
	same "-k echo {1.} {1/} {1//} {1/.} ::: /x/y.tar.gz a.b/c d"
	# (GNU parallel takes all of .profile for an extension; pool none.)
	same "-k echo {.} {/} {//} {/.} ::: dir/f.txt a.b.c /"
	same "-k echo {#} {} ::: a b c"
	same "-k -I XX echo XX-XX {} ::: a b"
	same "-k -I {} echo pre{}post ::: a b"
	same "-k {1} {2} ::: echo ::: a b"
	same "-k echo ::: '' 'a  b'"
}

@test "the same output as GNU parallel: --colsep and --header" {
	same "-k --colsep , echo {2} {1} :::: csv"
	same "-k --colsep , echo {} :::: csv"
	same "-k --colsep '\t' echo {1}+{2} :::: tsv"
	same "-k --colsep ',+' echo {2} ::: 'a,,b' 'c,d'"
	same "-k --colsep , --header : echo {m} {n} :::: h.csv"
	same "-k --header : echo {x}-{y} ::: x 1 2 ::: y a b"
	same "-k --header 1 echo :::: h.csv"
	STDIN=h.csv same "-k --colsep , --header : echo {n}"
}

@test "the same output as GNU parallel: --shell quotes every value for sh" {
	same "-k SH 'echo {} | tr a-z A-Z' ::: \"it's\" '\$(id)' 'a\`b\`' 'x;y'"
	same "-k SH 'printf \"%s|\" {}; echo' ::: 'a b' '  c  ' '\"q\"' '\\n'"
	same "-k SH 'echo {1} and {2}' ::: '*' '\$HOME' :::+ '&' '>x'"
	same "-k SH 'echo {}' ::: \"\$(printf 'two\nlines')\""
	same "-k SH 'echo' ::: '|' '<' ';'"
	same "-k --dry-run SH 'echo {}' ::: 'a b' c"
	[ ! -e x ]
}

@test "the same files as GNU parallel: --results DIR" {
	pool --results p echo ::: 'a/b' 'c\d' '' x ::: y z >pool.out
	"$GNU" --results g echo ::: 'a/b' 'c\d' '' x ::: y z >gnu.out
	[ ! -s pool.out ]
	cmp pool.out gnu.out
	(cd p && find . -type f | sort) >pool.files
	(cd g && find . -type f | sort) >gnu.files
	diff pool.files gnu.files
	while read -r f; do
		cmp "p/$f" "g/$f"
	done <pool.files
}

@test "the same rows as GNU parallel: --results FILE.csv, .tsv, .json (times apart)" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	for ext in csv tsv json; do
		pool -k --results "p.$ext" --shell 'echo {}; echo e{} >&2' \
		    ::: 'a,b' 'q"x' 'tab	s' ::: 1 2 >/dev/null
		"$GNU" -k --results "g.$ext" 'echo {}; echo e{} >&2' \
		    ::: 'a,b' 'q"x' 'tab	s' ::: 1 2 >/dev/null
		python3 - "p.$ext" "g.$ext" <<-'EOF'
		import csv, json, sys
		def rows(path):
		    if path.endswith(".json"):
		        out = [json.loads(l) for l in open(path)]
		    else:
		        d = "\t" if path.endswith(".tsv") else ","
		        out = list(csv.DictReader(open(path, newline=""), delimiter=d))
		    for r in out:
		        # GNU parallel quotes a comma in Command, pool needs not.
		        del r["Starttime"], r["JobRuntime"], r["Command"]
		    return sorted(out, key=lambda r: int(r["Seq"]))
		p, g = rows(sys.argv[1]), rows(sys.argv[2])
		assert len(p) == 6, p
		assert p == g, (p, g)
		EOF
	done
	# Command is the shell line that ran, tabs and all.
	run -0 python3 -c 'import csv,sys; print([r for r in csv.DictReader(open("p.csv")) if r["Seq"] == "5"][0]["Command"])'
	[ "$output" = "echo 'tab	s' 1; echo e'tab	s' 1 >&2" ]
}

@test "the same output as GNU parallel: -n 0, and values that are not there" {
	same "-k -n0 echo x ::: a b c"
	same "-k -n0 echo ::: a b c"
	same "-k -n0 printf '[%s]' {} {1} x{}y {#} ::: a b ::: c d"
	same "-k -n 0 echo hi :::: fa"
	STDIN=fb same "-k -n0 echo {#}"
	same "-k -n0 --tag echo x ::: a b"
	same "-k -n0 --tag echo x ::: a b ::: c"
	same "-k -n0 SH 'echo [{}] {1}' ::: a b"
	same "-k printf '[%s]' {3} x a{3}b {3.} {3/} {3//} y ::: a b"
	same "-k printf '[%s]' {3} {1} {2} ::: a b ::: c"
	same "-k -n2 printf '[%s]' {2} {1} x{2}y ::: a b c"
	same "-k printf '[%s]' {1} {2} ::: '' a"
	same "-k SH 'printf \"[%s]\" {3} x a{3}b {2}' ::: a b ::: c"
	same "-k {3} {2} ::: a b"
}

@test "the same output as GNU parallel: -X" {
	same "-k -j1 -X echo x{}y ::: 1 2 3 4 5 6"
	same "-k -j2 -X echo x{}y ::: 1 2 3 4 5 6"
	same "-k -j3 -X echo x{}y ::: 1 2 3 4 5 6 7"
	same "-k -j4 -X echo x{}y ::: 1 2 3 4 5 6 7 8 9 10"
	same "-k -j2 -X echo x{}y ::: 1"
	same "-k -j1 -X echo x{}y z {} ::: 1 2 3"
	same "-k -j1 -X echo x{}y{#} z{1} {2} ::: 1 2 3"
	same "-k -j1 -X echo {}-{} {.}:{/} ::: d/1.a d/2.b"
	same "-k -j1 -X echo ::: 1 2 3"
	same "-k -j1 -X -n2 echo x{}y ::: 1 2 3"
	same "-k -j1 -X -I XX echo aXXb ::: 1 2"
	STDIN=fb same "-k -j3 -X echo x{}y"
	same "-k -j2 -X SH 'echo x{}y  \"{}\"' ::: 1 2 3 'a b'"
	# As many as fit in a command line: every item once, in order.
	seq 100000 >many
	pool -k -j1 -X echo x{}y <many >pool.out
	[ "$(wc -l <pool.out)" -gt 1 ]
	[ "$(tr ' ' '\n' <pool.out | sed 's/^x//; s/y$//' | cmp - many && echo ok)" = ok ]
	pool -k -j3 -X --shell 'echo x{}y' <many >pool.out
	[ "$(tr ' ' '\n' <pool.out | sed 's/^x//; s/y$//' | cmp - many && echo ok)" = ok ]
}

@test "the same order of rows as GNU parallel: --results FILE.csv with -k" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	# Job 1 ends after jobs 2 and 3 have written their files (most of
	# the time after they have ended too; either way -k gives 1 2 3).
	line='if [ {} = 1 ]; then until [ -e 2.$T ] && [ -e 3.$T ]; do sleep 0.01; done; fi; echo {}; touch {}.$T'
	T=p pool -j3 -k --results p.csv --shell "$line" ::: 1 2 3
	T=g "$GNU" -j3 -k --results g.csv "$line" ::: 1 2 3
	for f in p.csv g.csv; do
		python3 -c 'import csv,sys; print(*[r["Seq"] for r in csv.DictReader(open(sys.argv[1]))])' "$f"
	done >seqs
	[ "$(cat seqs)" = "$(printf '1 2 3\n1 2 3')" ]
}
