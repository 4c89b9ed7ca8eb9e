# bash completion for concutils: pool, parallel, queue, sem, barrier and
# event. Installed under each program's name in bash-completion's
# directory (PREFIX/share/bash-completion/completions). The candidates
# come from @COMPLETE@ (the logic the three shells share); files,
# directories and command names bash finds itself.
_concutils() {
	local cur=${COMP_WORDS[COMP_CWORD]} c
	COMPREPLY=()
	while IFS= read -r c; do
		case $c in
		@file)
			compopt -o filenames 2>/dev/null
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur") ;;
		@dir)
			compopt -o filenames 2>/dev/null
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur") ;;
		@command)
			mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -c -- "$cur") ;;
		*)
			COMPREPLY+=("$c") ;;
		esac
	done < <(sh "@COMPLETE@" "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
}
complete -F _concutils @NAMES@
