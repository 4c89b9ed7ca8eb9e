/* report: what stat and ls print, the same for every kind of object
 * (concutils(7), Output of stat and ls).
 *
 * stat: one "KEY<TAB>VALUE" line per field; with --json one JSON object.
 * ls: one line per object, its fields separated by tabs, in the order of
 * the columns (--header: the column names first, on one line); with
 * --json one JSON array of objects. In JSON, numbers are numbers, yes/no
 * fields are true/false, a field that has no value ("none" in text) is
 * null, and strings are escaped: control characters as \uXXXX, and a byte
 * that is not part of valid UTF-8 as \ufffd (the replacement character);
 * in text, a control character in a value is printed as '?'.
 * A list field (sem's holders) is a JSON array of objects; in text, one
 * "KEY<TAB>V1<TAB>V2..." line per element, after the other fields. */
#ifndef CONC_REPORT_H
#define CONC_REPORT_H
#include <stdio.h>

#include "cli.h"
#include "obj.h"

struct report {
	FILE *out;      /* where it goes: stdout, unless report_init said */
	int json, header;
	int n;          /* fields printed in the current object */
	int ls;         /* between report_ls_begin and report_ls_end */
	int rows;       /* ls: objects printed */
	int list;       /* inside report_list_begin (JSON: elements printed
	                 * + 1; text: the list's key is kept in key) */
	const char *key;
};

/* report_options: parse stat's (LS 0) or ls's (LS 1) options: --json,
 * and for ls --header, besides -h and --version; exactly N operands
 * (see cli_operands). Returns the index of the first operand. */
int report_options(int argc, char **argv, const struct cli *cli, int ls,
    int n, struct report *r);

/* report_init: a report on OUT, in JSON if JSON, for a program that
 * prints one without stat's or ls's options (parallel --summary). */
void report_init(struct report *r, FILE *out, int json);

/* report_ls: the whole of an ls subcommand: its options (report_options),
 * then one row per object of type T, in name order, printed by ONE (its
 * ARG is the struct report), under COLS (see report_ls_begin). Returns
 * the exit status: 0, or 125 if the namespace directory cannot be read. */
int report_ls(int argc, char **argv, const struct cli *cli,
    const struct obj_type *t, const char *const *cols,
    void (*one)(struct obj *o, void *arg));

/* An object: stat prints one, ls one per row between report_ls_begin
 * and report_ls_end. */
void report_begin(struct report *r);
void report_end(struct report *r);
/* ls: COLS, ended by NULL, are the column names (printed with
 * --header); the rows follow. */
void report_ls_begin(struct report *r, const char *const *cols);
void report_ls_end(struct report *r);

/* The fields of the current object, in order. */
void report_num(struct report *r, const char *key, unsigned long long v);
void report_str(struct report *r, const char *key, const char *s);
/* A duration of NS nanoseconds, in seconds with 3 decimals ("1.250"). */
void report_secs(struct report *r, const char *key, unsigned long long ns);
void report_bool(struct report *r, const char *key, int yes);
void report_none(struct report *r, const char *key);

/* A list field KEY whose elements are objects: report_begin/report_end
 * around each element's fields, between these two. */
void report_list_begin(struct report *r, const char *key);
void report_list_end(struct report *r);
#endif
