/*
 * chatctl's output.  What --json prints, built with jansson from the
 * reply's key=value lines:
 *
 *   status     one object with a member per data line, e.g.
 *              {"pid": 812, "version": "0.1.0", "uptime": 60, ...,
 *               "listen": ["127.0.0.1:7777", "[::1]:7777"]}
 *   who, ps    an array with one object per data line, e.g.
 *              [{"id": 1, "addr": "127.0.0.1:50112", "worker": 1,
 *                "age": 5, "timeout": "none"}, ...]
 *   others     {"ok": true, "text": "kicked 5"} ("" when +OK has no text)
 *   -ERR       {"ok": false, "error": "no such client 5"}
 *
 * A key that appears more than once in one object becomes a list of its
 * values, in order.  A value that is a plain decimal integer (no sign but
 * "-", no leading zero, no point, in range) is a JSON number; every other
 * value is a string.  Members keep the order of the reply.
 *
 * For people: status prints "key  value" lines with the values in one
 * column; who and ps print a table whose header row holds the keys in
 * capitals, in the order they first appear, with "-" for a key that a
 * line lacks.  Widths count UTF-8 characters, not bytes.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"

#define OUTPUT_GAP     2 /* blanks between columns */
#define OUTPUT_MISSING "-"

/* One key=value pair, pointing into a data line. */
struct output_kv {
	const char *key;
	size_t keylen;
	const char *val;
	size_t vallen;
};

/* The pairs of one data line. */
struct output_row {
	struct output_kv *kv;
	size_t n;
};

struct output_col {
	const char *key;
	size_t keylen;
	size_t width;
};

struct output_table {
	struct output_row *rows;
	size_t nrows;
	struct output_col *cols;
	size_t ncols;
};

void
output_warn(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("chatctl: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

static int
output_bad_line(const char *line)
{
	output_warn("unexpected data line from chatd: \"%.80s\"", line);
	return -1;
}

static int
output_no_memory(void)
{
	output_warn("out of memory");
	return -1;
}

/* Standard output's errors are seen once, at the final fflush(). */
static void
output_put(const char *s, size_t n)
{
	(void)fwrite(s, 1, n, stdout);
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t
output_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void
output_pad(size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)putchar(' ');
}

/* ---- parsing data lines ---------------------------------------------- */

/* A whole line as one pair (status): the value may hold blanks or '='. */
static int
output_parse_pair(const char *line, struct output_kv *kv)
{
	const char *eq = strchr(line, '=');

	if (eq == NULL || eq == line)
		return output_bad_line(line);
	kv->key = line;
	kv->keylen = (size_t)(eq - line);
	kv->val = eq + 1;
	kv->vallen = strlen(eq + 1);
	return 0;
}

static int
output_is_pair(const char *word, size_t n)
{
	const char *eq = memchr(word, '=', n);

	return eq != NULL && eq != word;
}

/* Splits "k=v k=v ..." at blanks; a word without '=' belongs to the
 * value before it, so that a value may hold blanks. */
static int
output_parse_row(const char *line, struct output_row *row)
{
	size_t max = 1, n;
	const char *p, *eq;
	struct output_kv *kv;

	for (p = line; *p != '\0'; p++)
		max += *p == ' ';
	row->n = 0;
	if ((row->kv = calloc(max, sizeof(*row->kv))) == NULL)
		return output_no_memory();
	for (p = line; *p != '\0'; p += n + (p[n] == ' ')) {
		n = strcspn(p, " ");
		if (output_is_pair(p, n)) {
			kv = &row->kv[row->n++];
			eq = memchr(p, '=', n);
			kv->key = p;
			kv->keylen = (size_t)(eq - p);
			kv->val = eq + 1;
			kv->vallen = (size_t)(p + n - kv->val);
		} else if (row->n > 0) {
			kv = &row->kv[row->n - 1];
			kv->vallen = (size_t)(p + n - kv->val);
		} else {
			break;
		}
	}
	if (row->n > 0)
		return 0;
	free(row->kv);
	row->kv = NULL;
	return output_bad_line(line);
}

/* ---- JSON ------------------------------------------------------------ */

/* The value of a plain decimal integer that fits json_int_t, in *v. */
static int
output_integer(const char *s, size_t n, json_int_t *v)
{
	int neg = n > 0 && s[0] == '-';
	json_int_t acc = 0;
	size_t i = (size_t)neg;

	if (i == n || (s[i] == '0' && n - i > 1) || (neg && s[i] == '0'))
		return -1;
	for (; i < n; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9 || acc > (LLONG_MAX - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = neg ? -acc : acc;
	return 0;
}

static json_t *
output_json_value(const char *s, size_t n)
{
	json_int_t v;

	if (output_integer(s, n, &v) == 0)
		return json_integer(v);
	return json_stringn(s, n); /* NULL unless UTF-8 */
}

/* Sets obj[key] to v, or appends v to the list that a repeated key
 * turns into.  Takes v, as the jansson _new functions do. */
static int
output_json_set(json_t *obj, const char *key, json_t *v)
{
	json_t *old = json_object_get(obj, key), *list;

	if (old == NULL)
		return json_object_set_new(obj, key, v);
	if (json_is_array(old))
		return json_array_append_new(old, v);
	if ((list = json_array()) == NULL ||
	    json_array_append(list, old) != 0) {
		json_decref(list);
		json_decref(v);
		return -1;
	}
	if (json_array_append_new(list, v) != 0) {
		json_decref(list);
		return -1;
	}
	return json_object_set_new(obj, key, list);
}

/* Adds a pair to obj.  The key is copied to end it with a NUL: the
 * length-taking jansson calls need 2.14, configure asks for 2.10. */
static int
output_json_add(json_t *obj, const struct output_kv *kv)
{
	json_t *v = output_json_value(kv->val, kv->vallen);
	char *key = strndup(kv->key, kv->keylen);
	int rc = -1;

	if (v != NULL && key != NULL) {
		rc = output_json_set(obj, key, v);
		v = NULL; /* taken, even on failure */
	}
	json_decref(v);
	free(key);
	return rc;
}

static json_t *
output_json_object(const struct output_kv *kv, size_t n)
{
	json_t *obj = json_object();

	for (size_t i = 0; obj != NULL && i < n; i++) {
		if (output_json_add(obj, &kv[i]) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	return obj;
}

/* Prints root and drops it; NULL means building it failed. */
static int
output_json_print(json_t *root)
{
	int rc;

	if (root == NULL) {
		output_warn("cannot build the JSON output "
		            "(out of memory or text that is not UTF-8)");
		return -1;
	}
	rc = json_dumpf(root, stdout, JSON_INDENT(2)) == 0 ? 0 : -1;
	json_decref(root);
	if (rc == 0)
		putchar('\n');
	return rc;
}

static json_t *
output_json_reply(int ok, const char *key, const char *text)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	/* the _new setters take a NULL value as a failure */
	if (json_object_set_new(obj, "ok", json_boolean(ok)) != 0 ||
	    json_object_set_new(obj, key, json_string(text)) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* ---- status ---------------------------------------------------------- */

static int
output_status_pairs(const struct client_reply *r, struct output_kv *kv)
{
	for (size_t i = 0; i < r->nlines; i++)
		if (output_parse_pair(r->lines[i], &kv[i]) != 0)
			return -1;
	return 0;
}

static void
output_status_text(const struct output_kv *kv, size_t n)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++) {
		size_t w = output_width(kv[i].key, kv[i].keylen);

		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < n; i++) {
		output_put(kv[i].key, kv[i].keylen);
		output_pad(
		    width - output_width(kv[i].key, kv[i].keylen) + OUTPUT_GAP);
		output_put(kv[i].val, kv[i].vallen);
		putchar('\n');
	}
}

int
output_status(const struct client_reply *r, int json)
{
	struct output_kv *kv = calloc(r->nlines + 1, sizeof(*kv));
	int rc = -1;

	if (kv == NULL)
		return output_no_memory();
	if (output_status_pairs(r, kv) == 0) {
		if (json) {
			rc = output_json_print(
			    output_json_object(kv, r->nlines));
		} else {
			output_status_text(kv, r->nlines);
			rc = 0;
		}
	}
	free(kv);
	return rc;
}

/* ---- who, ps: tables ------------------------------------------------- */

static void
output_table_free(struct output_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].kv);
	free(t->rows);
	free(t->cols);
}

static struct output_col *
output_col_find(struct output_table *t, const char *key, size_t keylen)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (t->cols[i].keylen == keylen &&
		    memcmp(t->cols[i].key, key, keylen) == 0)
			return &t->cols[i];
	return NULL;
}

/* Width of a row's cell: its values joined by ",", or OUTPUT_MISSING. */
static size_t
output_cell_width(const struct output_row *row, const struct output_col *c)
{
	size_t w = 0, k = 0;

	for (size_t i = 0; i < row->n; i++) {
		const struct output_kv *kv = &row->kv[i];

		if (kv->keylen == c->keylen &&
		    memcmp(kv->key, c->key, c->keylen) == 0)
			w += (k++ > 0) + output_width(kv->val, kv->vallen);
	}
	return k > 0 ? w : strlen(OUTPUT_MISSING);
}

static void
output_cell_print(const struct output_row *row, const struct output_col *c)
{
	size_t k = 0;

	for (size_t i = 0; i < row->n; i++) {
		const struct output_kv *kv = &row->kv[i];

		if (kv->keylen != c->keylen ||
		    memcmp(kv->key, c->key, c->keylen) != 0)
			continue;
		if (k++ > 0)
			putchar(',');
		output_put(kv->val, kv->vallen);
	}
	if (k == 0)
		output_put(OUTPUT_MISSING, strlen(OUTPUT_MISSING));
}

/* Adds the row's keys that are new as columns, widening every column. */
static void
output_table_cols(struct output_table *t, const struct output_row *row)
{
	for (size_t i = 0; i < row->n; i++) {
		const struct output_kv *kv = &row->kv[i];
		struct output_col *c;

		if (output_col_find(t, kv->key, kv->keylen) != NULL)
			continue;
		c = &t->cols[t->ncols++];
		c->key = kv->key;
		c->keylen = kv->keylen;
		c->width = output_width(kv->key, kv->keylen);
	}
	for (size_t i = 0; i < t->ncols; i++) {
		size_t w = output_cell_width(row, &t->cols[i]);

		if (w > t->cols[i].width)
			t->cols[i].width = w;
	}
}

/* Parses every data line; columns come from the keys of all of them. */
static int
output_table_build(const struct client_reply *r, struct output_table *t)
{
	size_t maxcols = 0;

	memset(t, 0, sizeof(*t));
	if ((t->rows = calloc(r->nlines + 1, sizeof(*t->rows))) == NULL)
		return output_no_memory();
	for (; t->nrows < r->nlines; t->nrows++) {
		if (output_parse_row(r->lines[t->nrows], &t->rows[t->nrows]))
			return -1;
		maxcols += t->rows[t->nrows].n;
	}
	if ((t->cols = calloc(maxcols + 1, sizeof(*t->cols))) == NULL)
		return output_no_memory();
	for (size_t i = 0; i < t->nrows; i++)
		output_table_cols(t, &t->rows[i]);
	return 0;
}

static void
output_header_print(const struct output_table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const struct output_col *c = &t->cols[i];

		if (i > 0)
			output_pad(OUTPUT_GAP);
		for (size_t k = 0; k < c->keylen; k++) {
			char ch = c->key[k];
			putchar(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
		}
		if (i + 1 < t->ncols)
			output_pad(c->width - output_width(c->key, c->keylen));
	}
	putchar('\n');
}

static void
output_row_print(const struct output_table *t, const struct output_row *row)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const struct output_col *c = &t->cols[i];

		if (i > 0)
			output_pad(OUTPUT_GAP);
		output_cell_print(row, c);
		if (i + 1 < t->ncols)
			output_pad(c->width - output_cell_width(row, c));
	}
	putchar('\n');
}

static void
output_table_text(const struct output_table *t)
{
	if (t->nrows == 0)
		return; /* nobody connected: no header over nothing */
	output_header_print(t);
	for (size_t i = 0; i < t->nrows; i++)
		output_row_print(t, &t->rows[i]);
}

static json_t *
output_table_json(const struct output_table *t)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < t->nrows; i++) {
		json_t *obj = output_json_object(t->rows[i].kv, t->rows[i].n);

		if (obj == NULL || json_array_append_new(arr, obj) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

int
output_table(const struct client_reply *r, int json)
{
	struct output_table t;
	int rc = -1;

	if (output_table_build(r, &t) == 0) {
		if (json) {
			rc = output_json_print(output_table_json(&t));
		} else {
			output_table_text(&t);
			rc = 0;
		}
	}
	output_table_free(&t);
	return rc;
}

/* ---- single lines ---------------------------------------------------- */

int
output_text(const struct client_reply *r, int json)
{
	if (json)
		return output_json_print(output_json_reply(1, "text", r->text));
	if (r->text[0] != '\0')
		printf("%s\n", r->text);
	return 0;
}

int
output_error(const struct client_reply *r, int json)
{
	if (json)
		return output_json_print(
		    output_json_reply(0, "error", r->text));
	output_warn("%s", r->text);
	return 0;
}
