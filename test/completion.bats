#!/usr/bin/env bats
# Shell completions (completion/): bash's function driven through
# COMP_WORDS and COMP_CWORD, zsh's and fish's through their variables and
# commands (stubbed: compadd, commandline), when those shells are here.

load helper

test_setup() {
	mkdir -p "$CONC_DIR"
	queue create jobs
	queue create logs
	sem create lock
	barrier wait -n 1 phase
	# The files as make install writes them, the helper here.
	for f in concutils.bash _concutils concutils.fish; do
		sed -e "s|@COMPLETE@|$TOP/completion/complete|g" \
		    -e 's|@NAMES@|pool parallel queue sem barrier|g' \
		    -e 's|@NAME@|queue|g' "$TOP/completion/$f" >"$f"
	done
}

# bashc WORD...: the candidates bash's function offers for the last WORD.
bashc() {
	# shellcheck disable=SC1091
	source ./concutils.bash
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_concutils
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "bash: subcommands, and the subcommand's own options with their long forms" {
	run -0 bashc queue ""
	for w in put get create close 'done' join fifo size stat ls rm; do
		[[ " ${lines[*]} " == *" $w "* ]]
	done
	[[ "$output" != *-* ]]
	run -0 bashc queue p
	[ "$output" = put ]
	run -0 bashc queue get -
	[[ "$output" == *"--nowait"* && "$output" == *"--timeout"* && "$output" == *"-f"* ]]
	[[ "$output" != *"--lifo"* ]]   # create's, not get's
	run -0 bashc sem acquire --ow
	[ "$output" = --owner ]
}

@test "bash: object names from ls, for each kind, also after -H's value" {
	run -0 bashc queue get ""
	[ "${lines[*]}" = "jobs logs" ]
	run -0 bashc queue rm jobs l
	[ "$output" = logs ]
	run -0 bashc sem run ""
	[ "$output" = lock ]
	run -0 bashc barrier stat ""
	[ "$output" = phase ]
	run -0 bashc queue put jobs ""
	[ -z "$output" ]     # messages: nothing to offer
}

@test "bash: option values by kind (files, modes, choices, hosts from ~/.ssh/config), commands" {
	touch procfile.txt
	run -0 bashc parallel -f proc
	[ "$output" = procfile.txt ]
	run -0 bashc queue create --mode 6
	[[ "$output" == *600* && "$output" == *666* ]]
	run -0 bashc parallel --color ""
	[ "${lines[*]}" = "always auto never" ]
	mkdir -p home/.ssh
	printf 'Host web1 web2\n\tHostName x\nHost *.corp\n' >home/.ssh/config
	HOME=$PWD/home run -0 bashc pool -S w
	[ "${lines[*]}" = "web1 web2" ]
	HOME=$PWD/home run -0 bashc queue -H web1 get j
	[ "$output" = jobs ]
	run -0 bashc sem run lock bashc_no_such_comman
	[ -z "$output" ]
	run -0 bashc pool ech
	[[ "$output" == *echo* ]]
	run -0 bashc barrier wait -n 2 phase -- ech
	[[ "$output" == *echo* ]]
	# a usage line that goes on over two lines (queue run)
	run -0 bashc queue run jobs ech
	[[ "$output" == *echo* ]]
	run -0 bashc queue run --le
	[ "$output" = --lease ]
	run -0 bashc pool echo proc
	[ "$output" = procfile.txt ]
	# queue fifo NAME PATH: a queue, then a file
	run -0 bashc queue fifo --out ""
	[ "${lines[*]}" = "jobs logs" ]
	run -0 bashc queue fifo jobs proc
	[ "$output" = procfile.txt ]
}

@test "bash: a program installed with a prefix (cqueue) completes the same" {
	mkdir pfx
	ln -s "$TOP/bin/queue" pfx/cqueue
	run -0 bashc pfx/cqueue get ""
	[ "${lines[*]}" = "jobs logs" ]
	run -0 bashc pfx/cqueue cl
	[ "$output" = close ]
}

@test "zsh: the function offers subcommands, options and object names" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	cat >drive.zsh <<'Z'
compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
_files() { print @files }
_command_names() { print @commands }
words=("$@"); CURRENT=$#
source ./_concutils
Z
	run -0 zsh -f drive.zsh queue ""
	[[ "$output" == *put*get* ]]
	run -0 zsh -f drive.zsh queue get ""
	[ "${lines[*]}" = "jobs logs" ]
	run -0 zsh -f drive.zsh queue get --no
	[ "$output" = --nowait ]
	run -0 zsh -f drive.zsh sem run lock ""
	[ "$output" = @commands ]
}

@test "fish: the function offers subcommands, options and object names" {
	command -v fish >/dev/null || skip "fish is not installed"
	cat >drive.fish <<'F'
set -g words $argv
function commandline
	switch $argv[1]
		case -ct
			echo $words[-1]
		case -opc
			printf '%s\n' $words[1..-2]
	end
end
source ./concutils.fish
__concutils_complete
F
	run -0 fish --no-config drive.fish queue ""
	[[ "$output" == *put*get* ]]
	run -0 fish --no-config drive.fish queue get ""
	[ "${lines[*]}" = "jobs logs" ]
	run -0 fish --no-config drive.fish queue get --no
	[ "$output" = --nowait ]
	run -0 fish --no-config drive.fish queue put jobs ""
	[ -z "$output" ]
}

@test "every installed man page names its program's completion files, which make install put there" {
	command -v man >/dev/null || skip "man is not installed"
	make -s -C "$TOP" install DESTDIR="$PWD/d" PREFIX=/usr PROGPREFIX=c >/dev/null
	for t in pool parallel queue sem barrier event; do
		page=$(MANWIDTH=200 man -l "d/usr/share/man/man1/c$t.1"* 2>/dev/null)
		paths=$(printf '%s\n' "$page" | grep -o 'PREFIX/share/[^ ]*' | sort -u)
		[ "$(printf '%s\n' "$paths" | wc -l)" = 3 ]
		for p in $paths; do
			[ -f "d/usr/${p#PREFIX/}" ] || { echo "c$t(1) names $p: not installed"; false; }
		done
		[[ "$paths" == *"completions/c$t"* ]]
	done
}
