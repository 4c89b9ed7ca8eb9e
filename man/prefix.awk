# man/prefix.awk: a page as installed with a program-name prefix
# (make install PROGPREFIX=c): the programs are called cpool, cparallel...,
# so are their pages (.Dt, .Nm, .Xr) and the commands in the examples.
#   awk -v p=PREFIX -v tools="pool parallel ..." -f man/prefix.awk PAGE
BEGIN {
	n = split(tools, tool, " ")
	for (i = 1; i <= n; i++)
		is[tool[i]] = 1
}
/^\.Bd -literal/ { literal = 1 }
/^\.Ed/ { literal = 0 }
p != "" && $1 == ".Dt" && is[tolower($2)] { $2 = toupper(p) $2 }
p != "" && ($1 == ".Nm" || $1 == ".Xr") && is[$2] { $2 = p $2 }
p != "" && (literal || $1 == ".Dl") {
	# A program's name where a command starts: first on the line, or
	# after | ; & ( $( `
	out = ""
	line = $0
	while (match(line, /(^|[|;&(`]|\$\()[ \t]*[a-z]+( |$)/)) {
		pre = substr(line, 1, RSTART - 1)
		m = substr(line, RSTART, RLENGTH)
		word = m
		sub(/^(\.Dl|[|;&(`]|\$\()?[ \t]*/, "", word)
		sub(/ $/, "", word)
		lead = substr(m, 1, length(m) - length(word) - (m ~ / $/))
		if (is[word] && !(RSTART == 1 && lead == "" && word == "Dl"))
			m = lead p word (m ~ / $/ ? " " : "")
		out = out pre m
		line = substr(line, RSTART + RLENGTH)
	}
	$0 = out line
	if ($1 == ".Dl" && is[$2]) $2 = p $2
}
{ print }
