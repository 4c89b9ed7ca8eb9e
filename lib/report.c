#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "obj.h"
#include "report.h"

int
report_options(int argc, char **argv, const struct cli *cli, int ls, int n,
    struct report *r)
{
	static const struct option stat_opts[] = {
		{ "json", no_argument, 0, 'J' }, CLI_STD_OPTIONS, { 0 }
	};
	static const struct option ls_opts[] = {
		{ "json", no_argument, 0, 'J' },
		{ "header", no_argument, 0, 'E' }, CLI_STD_OPTIONS, { 0 }
	};
	int c;

	memset(r, 0, sizeof *r);
	r->out = stdout;
	cli_reset();
	while ((c = cli_next(argc, argv, "", ls ? ls_opts : stat_opts,
	    cli)) != -1)
		if (c == 'J')
			r->json = 1;
		else
			r->header = 1;
	return cli_rest(argc, argv, cli, n);
}

void
report_init(struct report *r, FILE *out, int json)
{
	memset(r, 0, sizeof *r);
	r->out = out;
	r->json = json;
}

int
report_ls(int argc, char **argv, const struct cli *cli,
    const struct obj_type *t, const char *const *cols,
    void (*one)(struct obj *o, void *arg))
{
	struct report r;
	int st;

	report_options(argc, argv, cli, 1, 0, &r);
	report_ls_begin(&r, cols);
	st = obj_list(t, one, &r) < 0 ? EXIT_TOOL : 0;
	report_ls_end(&r);
	return st;
}

/* The length of the valid UTF-8 sequence at S (1 to 4), or 0. */
static int
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	int n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

static void
json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", f);
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	putc('"', f);
}

/* Start a field: the separator and, in JSON, the key. */
static void
field(struct report *r, const char *key)
{
	if (r->json) {
		fputs(r->n++ ? ", " : "", r->out);
		json_string(r->out, key);
		fputs(": ", r->out);
	} else if (r->ls || r->list) {
		/* A row of ls, or an element of a list: columns. */
		fputs(r->n++ ? "\t" : "", r->out);
	} else {
		fprintf(r->out, "%s\t", key);
		r->n++;
	}
}

/* End a field: in a stat's text, its line. */
static void
field_end(struct report *r)
{
	if (!r->json && !r->ls && !r->list)
		putc('\n', r->out);
}

void
report_begin(struct report *r)
{
	if (r->list) {
		if (r->json)
			fputs(r->list++ > 1 ? ", {" : "{", r->out);
		else
			fprintf(r->out, "%s\t", r->key);
	} else if (r->ls) {
		if (r->json)
			fputs(r->rows ? ",\n{" : "\n{", r->out);
		r->rows++;
	} else if (r->json) {
		putc('{', r->out);
	}
	r->n = 0;
}

void
report_end(struct report *r)
{
	if (r->json)
		putc('}', r->out);
	if (r->json ? !r->ls && !r->list : r->ls || r->list)
		putc('\n', r->out);
}

void
report_ls_begin(struct report *r, const char *const *cols)
{
	int i;

	r->ls = 1;
	if (r->json)
		putc('[', r->out);
	else if (r->header)
		for (i = 0; cols[i]; i++)
			fprintf(r->out, "%s%c", cols[i],
			    cols[i + 1] ? '\t' : '\n');
}

void
report_ls_end(struct report *r)
{
	if (r->json)
		fputs(r->rows ? "\n]\n" : "]\n", r->out);
}

void
report_num(struct report *r, const char *key, unsigned long long v)
{
	field(r, key);
	fprintf(r->out, "%llu", v);
	field_end(r);
}

void
report_secs(struct report *r, const char *key, unsigned long long ns)
{
	field(r, key);
	ns = (ns + 500000) / 1000000;   /* milliseconds, rounded */
	fprintf(r->out, "%llu.%03llu", ns / 1000, ns % 1000);
	field_end(r);
}

void
report_str(struct report *r, const char *key, const char *s)
{
	field(r, key);
	if (r->json)
		json_string(r->out, s);
	else    /* a tab or newline in a value would split the line */
		for (; *s; s++)
			putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' :
			    *s, r->out);
	field_end(r);
}

void
report_bool(struct report *r, const char *key, int yes)
{
	field(r, key);
	fputs(r->json ? (yes ? "true" : "false") : (yes ? "yes" : "no"),
	    r->out);
	field_end(r);
}

void
report_none(struct report *r, const char *key)
{
	field(r, key);
	fputs(r->json ? "null" : "none", r->out);
	field_end(r);
}

void
report_list_begin(struct report *r, const char *key)
{
	if (r->json) {
		field(r, key);
		putc('[', r->out);
	}
	r->key = key;
	r->list = 1;
}

void
report_list_end(struct report *r)
{
	if (r->json)
		putc(']', r->out);
	r->list = 0;
	r->n = 1;
}
