#!/usr/bin/env bats
# Every command example of pool(1) (its EXAMPLES section) and of the
# README's pool section runs verbatim. test/examples.sh extracts them
# mechanically, so a new example is run without editing this file: each
# in a fresh directory holding the small fixtures below, with bash
# (pipefail, errexit), and must exit 0. A block that is a Makefile runs
# with make -j2; an example that needs what a test machine has not (a
# Slurm cluster) is skipped by name, with the reason. The tools that
# examples call and that are no part of concutils (ImageMagick, the
# placeholders ./fetch-from and ./simulate) are stood in by small scripts.
# shellcheck disable=SC2016

load helper

# fixtures: what the examples expect to find where they run.
fixtures() {
	mkdir -p stub img thumbs sub data
	# ImageMagick: convert writes its last argument, identify prints a
	# size.
	printf '#!/bin/sh\nfor a; do :; done; echo converted >"$a"\n' >stub/convert
	printf '#!/bin/sh\necho 1x1\n' >stub/identify
	chmod +x stub/*
	# A renderer: writes the image beside the scene.
	mkdir -p frames
	touch frames/1.blend frames/2.blend
	printf '#!/bin/sh\necho rendered >"${1%%.blend}.png"\n' >render
	chmod +x render
	# A mirror that answers only for m2.
	printf '#!/bin/sh\n[ "$1" = m2 ]\n' >fetch-from
	chmod +x fetch-from
	echo a >a.log
	echo b >sub/b.log
	seq 1000 | sed 's/^1.*/ERROR &/' >big.log
	touch 1.png 2.png img/x.jpg img/y.jpg
	for u in u1 u2; do
		echo "$u" >"data/$u"
		echo "file://$PWD/data/$u"
	done >urls.txt
	printf 'old,new\na,b\n' >renames.csv
	touch a
}

# skip_reason TEXT: why the example TEXT cannot run here (nothing if it
# can).
skip_reason() {
	case $1 in
	*'#SBATCH'*) echo "needs a Slurm cluster (test/slurm.bats runs --slurm)" ;;
	esac
}

# run_examples FILE [FIRST LAST]: run every example of FILE (see
# test/examples.sh); fail naming each one that does not run.
run_examples() {
	local rec where text why n=0 bad=0 dir
	while IFS= read -r -d '' rec; do
		where=${rec%%$'\n'*}
		text=${rec#*$'\n'}
		n=$((n + 1))
		why=$(skip_reason "$text")
		if [ -n "$why" ]; then
			echo "# skipped $where: $why" >&3
			continue
		fi
		dir="$BATS_TEST_TMPDIR/ex$n"
		mkdir "$dir"
		(
			cd "$dir" && fixtures && PATH="$dir/stub:$PATH" &&
			if [[ $text =~ ^(\.PHONY|[A-Za-z0-9_.-]+): ]]; then
				printf '%s' "$text" >Makefile && make -s -j2
			else
				timeout 120 bash -e -o pipefail -c "$text"
			fi
		) >"$dir.out" 2>&1 </dev/null || {
			echo "$where failed:"
			echo "$text"
			cat "$dir.out"
			bad=1
		}
	done < <(sh "$TOP/test/examples.sh" "$@")
	[ "$n" -gt 0 ] || { echo "no examples found in $*"; return 1; }
	return "$bad"
}

@test "every example of pool(1) runs verbatim" {
	run_examples "$TOP/man/pool.1"
}

@test "every example of the README's pool section runs verbatim" {
	run_examples "$TOP/README.md" '^## pool' '^## '
}
