# fish completion for concutils' @NAME@. Installed as
# PREFIX/share/fish/vendor_completions.d/@NAME@.fish, one file per
# program. The candidates come from @COMPLETE@ (the logic the three
# shells share); files, directories and command names fish finds itself.
function __concutils_complete
	set -l cur (commandline -ct)
	for c in (sh "@COMPLETE@" (commandline -opc) "$cur" 2>/dev/null)
		switch $c
			case @file
				__fish_complete_path "$cur"
			case @dir
				__fish_complete_directories "$cur"
			case @command
				__fish_complete_command
			case '*'
				echo $c
		end
	end
end
complete -c @NAME@ -f -a '(__concutils_complete)'
