# shellcheck shell=sh
# test/examples.sh FILE [FIRST LAST]: the command examples of a man page
# or of the README, each as one record ending in a NUL byte: its first
# line "FILE:LINE", the rest its text.
#
# A man page (mdoc): in its EXAMPLES section, each .Dl line is an example
# and so is each .Bd -literal block, with mdoc's escapes undone. The
# README (Markdown): each paragraph (lines up to a blank line) of a ```sh
# block; with FIRST and LAST, only the lines from the heading FIRST to
# the next heading LAST (regular expressions).
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
	/^\.Bd -literal/ { block = 1; at = NR + 1; text = ""; next }
	/^\.Ed/ && block {
		printf "%s:%d\n%s%c", file, at, text, 0
		block = 0
		next
	}
	block { text = text unescape($0) "\n" }
	' "$file"
	;;
esac
