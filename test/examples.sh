# shellcheck shell=sh
# test/examples.sh FILE [FIRST LAST]: the command examples of a man page
# or of the README, each as one record ending in a NUL byte: its first
# line "FILE:LINE", the rest its text.
#
# A man page (mdoc): in its EXAMPLES section, each .Dl line is an example
# and so is each .Bd -literal block, with mdoc's escapes undone; a block
# whose first line starts with "$ " is a transcript (see below). The
# README (Markdown): each paragraph (lines up to a blank line) of a ```sh
# block; with FIRST and LAST, only the lines from the heading FIRST to
# the next heading LAST (regular expressions). Its indented blocks are
# the steps to build and install (make, make check, dpkg-buildpackage),
# not examples: CI runs those itself.
file=$1
case $file in
*.md)
	awk -v file="$file" -v first="${2:-}" -v last="${3:-}" '
	BEGIN { on = first == "" }
	function flush() {
		if (text != "")
			printf "%s:%d\n%s%c", file, at, text, 0
		text = ""
	}
	first != "" && !on && $0 ~ first { on = 1; next }
	last != "" && on && !code && $0 ~ last { on = 0 }
	!on { next }
	/^```/ {
		if (code) { flush(); code = 0 }
		else if ($0 == "```sh") code = 1
		next
	}
	!code { next }
	/^$/ { flush(); next }
	{ if (text == "") at = NR; text = text $0 "\n" }
	' "$file"
	;;
*)
	awk -v file="$file" '
	function unescape(s) {
		gsub(/\\&/, "", s)
		gsub(/\\\(dq/, "\"", s)
		gsub(/\\\(aq/, "'\''", s)
		gsub(/\\-/, "-", s)
		gsub(/\\e/, "\\", s)
		return s
	}
	/^\.Sh / { on = $0 == ".Sh EXAMPLES"; next }
	!on { next }
	/^\.Dl / {
		sub(/^\.Dl /, "")
		printf "%s:%d\n%s\n%c", file, NR, unescape($0), 0
		next
	}
	/^\.Bd -literal/ {
		block = 1; prompt = 0; cat = ""; at = NR + 1; text = ""
		next
	}
	/^\.Ed/ && block {
		if (cat != "")
			text = text "EOF\ncat " cat "\n"
		printf "%s:%d\n%s%c", file, at, text, 0
		block = 0
		next
	}
	# A transcript: "$ " lines and their continuations (after a line
	# that ends in a backslash, a pipe or &&) are commands,
	# the other lines their output, not run; the output of "$ cat FILE"
	# is FILE, written by a here-document where the cat was.
	block && text == "" && /^\$ / { prompt = 1; more = 0; cat = "" }
	block && prompt && /^\$ / {
		if (cat != "")
			text = text "EOF\ncat " cat "\n"
		cat = ""
		line = unescape(substr($0, 3))
		if (line ~ /^cat [^ |<>]+$/) {
			cat = substr(line, 5)
			text = text "cat >" cat " <<'\''EOF'\''\n"
		} else
			text = text line "\n"
		more = line ~ /(\\|[|]|&&)$/
		next
	}
	block && prompt && more {
		line = unescape($0)
		text = text line "\n"
		more = line ~ /(\\|[|]|&&)$/
		next
	}
	block && prompt && cat != "" { text = text unescape($0) "\n"; next }
	block && prompt { next }
	block { text = text unescape($0) "\n" }
	' "$file"
	;;
esac
