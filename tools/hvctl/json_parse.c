// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: a small strict JSON parser (RFC 8259).
 *
 * Strict: one value with only whitespace (space, tab, CR, LF) around it;
 * no comments, trailing commas, single quotes, unquoted keys, leading
 * zeros, NaN or hexadecimal numbers; strings are valid UTF-8 without
 * control characters, escapes are the standard ones and \u surrogates
 * come in pairs; duplicate keys in an object are refused (a configuration
 * file with two "irq"s is a mistake). Every value records its line and
 * column, and an error says where the input stops making sense.
 *
 * Recursive descent with a depth limit; everything is heap allocated and
 * freed with json_free().
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_parse.h"

struct parser {
	const char *p;
	const char *end;
	unsigned int line;
	unsigned int col;
	struct json_error *err;
};

/* Printed like printf; the position is the parser's unless given. */
static int __attribute__((format(printf, 4, 5)))
fail_at(struct parser *ps, unsigned int line, unsigned int col,
	const char *fmt, ...)
{
	va_list ap;

	ps->err->line = line;
	ps->err->col = col;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

#define fail(ps, ...)	fail_at(ps, (ps)->line, (ps)->col, __VA_ARGS__)

static bool at_end(const struct parser *ps)
{
	return ps->p >= ps->end;
}

/* Step over one byte, keeping line and column. */
static void advance(struct parser *ps)
{
	unsigned char c = *ps->p++;

	if (c == '\n') {
		ps->line++;
		ps->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		/* Continuation bytes belong to the character before. */
		ps->col++;
	}
}

static void skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t' ||
			       *ps->p == '\n' || *ps->p == '\r'))
		advance(ps);
}

/* How to name the character at the parser for a message. */
static const char *what_is_here(const struct parser *ps, char *buf,
				size_t len)
{
	unsigned char c;

	if (at_end(ps))
		return "the end of the input";
	c = *ps->p;
	if (c == '/')
		return "'/' (comments are not JSON)";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

/* A growable byte buffer for decoded strings. */
struct buf {
	char *s;
	size_t len;
	size_t cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p)
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		u[0] = 0xf0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3f);
		u[2] = 0x80 | (cp >> 6 & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	return buf_put(b, u, n);
}

/*
 * The length of the valid UTF-8 sequence at @s (at most @max bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t utf8_len(const unsigned char *s, size_t max)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > max)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Four hex digits of a \u escape. */
static int hex4(struct parser *ps, uint32_t *out)
{
	unsigned int i;
	uint32_t v = 0;

	for (i = 0; i < 4; i++) {
		char c = at_end(ps) ? '\0' : *ps->p;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, "\\u needs four hexadecimal digits");
		advance(ps);
	}
	*out = v;
	return 0;
}

/* A \u escape, the backslash and 'u' already read; @line/@col: its start. */
static int unicode_escape(struct parser *ps, struct buf *b, unsigned int line,
			  unsigned int col)
{
	uint32_t hi, lo;

	if (hex4(ps, &hi))
		return -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail_at(ps, line, col,
			       "\\u%04X is a low surrogate without a high one",
			       hi);
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
			return fail_at(ps, line, col,
				       "\\u%04X is a high surrogate without a low one",
				       hi);
		advance(ps);
		advance(ps);
		if (hex4(ps, &lo))
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail_at(ps, line, col,
				       "\\u%04X is a high surrogate without a low one",
				       hi);
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (put_utf8(b, hi))
		return fail(ps, "out of memory");
	return 0;
}

/* A string, at its opening quote; the decoded text into @b. */
static int parse_string(struct parser *ps, struct buf *b)
{
	unsigned int line, col;
	size_t n;
	char c;

	advance(ps);	/* the quote */
	if (buf_put(b, "", 0))
		return fail(ps, "out of memory");
	for (;;) {
		if (at_end(ps))
			return fail(ps, "unterminated string");
		c = *ps->p;
		if (c == '"') {
			advance(ps);
			return 0;
		}
		if ((unsigned char)c < 0x20)
			return fail(ps, "control character 0x%02x in a string (escape it)",
				    (unsigned char)c);
		if (c != '\\') {
			n = utf8_len((const unsigned char *)ps->p,
				     ps->end - ps->p);
			if (!n)
				return fail(ps, "invalid UTF-8 in a string");
			if (buf_put(b, ps->p, n))
				return fail(ps, "out of memory");
			while (n--)
				advance(ps);
			continue;
		}
		line = ps->line;
		col = ps->col;
		advance(ps);
		if (at_end(ps))
			return fail(ps, "unterminated string");
		c = *ps->p;
		advance(ps);
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (unicode_escape(ps, b, line, col))
				return -1;
			continue;
		default:
			return fail_at(ps, line, col, "invalid escape '\\%c'",
				       (unsigned char)c >= 0x20 &&
				       (unsigned char)c < 0x7f ? c : '?');
		}
		if (buf_put(b, &c, 1))
			return fail(ps, "out of memory");
	}
}

static bool is_digit(const struct parser *ps)
{
	return !at_end(ps) && *ps->p >= '0' && *ps->p <= '9';
}

static int parse_number(struct parser *ps, struct json_value *v)
{
	const char *start = ps->p;

	if (*ps->p == '-')
		advance(ps);
	if (!is_digit(ps))
		return fail(ps, "a number needs a digit here");
	if (*ps->p == '0') {
		advance(ps);
		if (is_digit(ps))
			return fail_at(ps, v->line, v->col,
				       "numbers have no leading zeros (octal or a string \"0...\" belongs in quotes)");
	} else {
		while (is_digit(ps))
			advance(ps);
	}
	if (!at_end(ps) && *ps->p == '.') {
		advance(ps);
		if (!is_digit(ps))
			return fail(ps, "a digit must follow the decimal point");
		while (is_digit(ps))
			advance(ps);
	}
	if (!at_end(ps) && (*ps->p == 'e' || *ps->p == 'E')) {
		advance(ps);
		if (!at_end(ps) && (*ps->p == '+' || *ps->p == '-'))
			advance(ps);
		if (!is_digit(ps))
			return fail(ps, "a digit must follow the exponent");
		while (is_digit(ps))
			advance(ps);
	}
	v->type = JSON_NUMBER;
	v->len = ps->p - start;
	v->str = malloc(v->len + 1);
	if (!v->str)
		return fail(ps, "out of memory");
	memcpy(v->str, start, v->len);
	v->str[v->len] = '\0';
	return 0;
}

static int parse_literal(struct parser *ps, struct json_value *v)
{
	static const struct {
		const char *word;
		enum json_type type;
		bool value;
	} lit[] = {
		{ "true", JSON_BOOL, true },
		{ "false", JSON_BOOL, false },
		{ "null", JSON_NULL, false },
	};
	const char *s = ps->p;
	size_t i, n;

	for (i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		n = strlen(lit[i].word);
		if ((size_t)(ps->end - s) < n || memcmp(s, lit[i].word, n))
			continue;
		/* "nullx", "true1": one word that is no literal. */
		if ((size_t)(ps->end - s) > n &&
		    ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		     (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			break;
		v->type = lit[i].type;
		v->boolean = lit[i].value;
		while (n--)
			advance(ps);
		return 0;
	}
	return fail(ps, "invalid literal (true, false and null are the only words; strings need double quotes)");
}

static int parse_value(struct parser *ps, struct json_value *v,
		       unsigned int depth);

/* Make room for one more element; @cap doubles. */
static int grow(struct parser *ps, struct json_value *v, size_t *cap,
		bool keys)
{
	size_t n = *cap ? *cap * 2 : 4;
	void *p;

	if (v->n < *cap)
		return 0;
	p = realloc(v->items, n * sizeof(*v->items));
	if (!p)
		return fail(ps, "out of memory");
	v->items = p;
	if (keys) {
		p = realloc(v->keys, n * sizeof(*v->keys));
		if (!p)
			return fail(ps, "out of memory");
		v->keys = p;
	}
	*cap = n;
	return 0;
}

static int parse_array(struct parser *ps, struct json_value *v,
		       unsigned int depth)
{
	size_t cap = 0;
	char here[16];

	v->type = JSON_ARRAY;
	advance(ps);	/* [ */
	skip_ws(ps);
	if (!at_end(ps) && *ps->p == ']') {
		advance(ps);
		return 0;
	}
	for (;;) {
		if (grow(ps, v, &cap, false))
			return -1;
		/* Counted first: json_free() then frees it if it fails. */
		v->n++;
		if (parse_value(ps, &v->items[v->n - 1], depth + 1))
			return -1;
		skip_ws(ps);
		if (at_end(ps))
			return fail(ps, "unterminated array: expected ',' or ']'");
		if (*ps->p == ']') {
			advance(ps);
			return 0;
		}
		if (*ps->p != ',')
			return fail(ps, "expected ',' or ']' after an array element, not %s",
				    what_is_here(ps, here, sizeof(here)));
		advance(ps);
		skip_ws(ps);
		if (!at_end(ps) && *ps->p == ']')
			return fail(ps, "trailing comma before ']'");
	}
}

static int parse_object(struct parser *ps, struct json_value *v,
			unsigned int depth)
{
	struct buf key = { 0 };
	unsigned int line, col;
	size_t cap = 0, i;
	char here[16];

	v->type = JSON_OBJECT;
	advance(ps);	/* { */
	skip_ws(ps);
	if (!at_end(ps) && *ps->p == '}') {
		advance(ps);
		return 0;
	}
	for (;;) {
		if (at_end(ps))
			return fail(ps, "unterminated object: expected a key");
		if (*ps->p != '"')
			return fail(ps, "expected a key in double quotes, not %s",
				    what_is_here(ps, here, sizeof(here)));
		line = ps->line;
		col = ps->col;
		memset(&key, 0, sizeof(key));
		if (parse_string(ps, &key)) {
			free(key.s);
			return -1;
		}
		if (strlen(key.s) != key.len) {
			free(key.s);
			return fail_at(ps, line, col, "a key with a NUL character");
		}
		for (i = 0; i < v->n; i++) {
			if (!strcmp(v->keys[i], key.s)) {
				fail_at(ps, line, col, "duplicate key \"%.80s\"",
					key.s);
				free(key.s);
				return -1;
			}
		}
		if (grow(ps, v, &cap, true)) {
			free(key.s);
			return -1;
		}
		skip_ws(ps);
		if (at_end(ps) || *ps->p != ':') {
			free(key.s);
			return fail(ps, "expected ':' after the key, not %s",
				    what_is_here(ps, here, sizeof(here)));
		}
		advance(ps);
		v->keys[v->n++] = key.s;
		if (parse_value(ps, &v->items[v->n - 1], depth + 1))
			return -1;
		skip_ws(ps);
		if (at_end(ps))
			return fail(ps, "unterminated object: expected ',' or '}'");
		if (*ps->p == '}') {
			advance(ps);
			return 0;
		}
		if (*ps->p != ',')
			return fail(ps, "expected ',' or '}' after an object member, not %s",
				    what_is_here(ps, here, sizeof(here)));
		advance(ps);
		skip_ws(ps);
		if (!at_end(ps) && *ps->p == '}')
			return fail(ps, "trailing comma before '}'");
	}
}

/*
 * One value, after optional whitespace, into @v. On failure @v holds what
 * was built so far, consistently, for json_free_members().
 */
static int parse_value(struct parser *ps, struct json_value *v,
		       unsigned int depth)
{
	char here[16];

	memset(v, 0, sizeof(*v));
	skip_ws(ps);
	v->line = ps->line;
	v->col = ps->col;
	if (at_end(ps))
		return fail(ps, "unexpected end of the input: expected a value");
	if (depth >= JSON_MAX_DEPTH &&
	    (*ps->p == '[' || *ps->p == '{'))
		return fail(ps, "nesting deeper than %d levels", JSON_MAX_DEPTH);
	switch (*ps->p) {
	case '{':
		return parse_object(ps, v, depth);
	case '[':
		return parse_array(ps, v, depth);
	case '"': {
		struct buf b = { 0 };

		v->type = JSON_STRING;
		if (parse_string(ps, &b)) {
			free(b.s);
			return -1;
		}
		v->str = b.s;
		v->len = b.len;
		return 0;
	}
	case '-':
	case '0' ... '9':
		return parse_number(ps, v);
	case 't': case 'f': case 'n':
		return parse_literal(ps, v);
	case '/':
		return fail(ps, "comments are not JSON");
	case '\'':
		return fail(ps, "strings need double quotes");
	case ']':
	case '}':
	case ',':
		return fail(ps, "expected a value, not %s",
			    what_is_here(ps, here, sizeof(here)));
	default:
		if ((unsigned char)*ps->p >= 0x80 &&
		    !utf8_len((const unsigned char *)ps->p, ps->end - ps->p))
			return fail(ps, "invalid UTF-8");
		return fail(ps, "expected a value, not %s",
			    what_is_here(ps, here, sizeof(here)));
	}
}

/* Free what @v holds, not @v itself. */
static void json_free_members(struct json_value *v)
{
	size_t i;

	if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
		for (i = 0; i < v->n; i++)
			json_free_members(&v->items[i]);
	}
	if (v->keys) {
		for (i = 0; i < v->n; i++)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

/**
 * json_parse() - parse a whole JSON text
 * @text: the text (need not be NUL-terminated; a NUL in it is an error)
 * @len: its length in bytes
 * @err: where and why, on failure
 *
 * Return: the top-level value (free it with json_free()), or NULL.
 */
struct json_value *json_parse(const char *text, size_t len,
			      struct json_error *err)
{
	struct parser ps = {
		.p = text, .end = text + len, .line = 1, .col = 1, .err = err,
	};
	struct json_value *v;
	const char *nul;

	memset(err, 0, sizeof(*err));
	nul = memchr(text, '\0', len);
	if (nul) {
		/* Report it where it is. */
		ps.end = nul;
		while (!at_end(&ps))
			advance(&ps);
		fail(&ps, "a NUL byte in the input");
		return NULL;
	}
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		fail(&ps, "a byte order mark (JSON text has none)");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		fail(&ps, "out of memory");
		return NULL;
	}
	if (parse_value(&ps, v, 0)) {
		json_free(v);
		return NULL;
	}
	skip_ws(&ps);
	if (!at_end(&ps)) {
		char here[16];

		fail(&ps, "%s after the end of the JSON value",
		     what_is_here(&ps, here, sizeof(here)));
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	json_free_members(v);
	free(v);
}

/* The value of member @key of object @obj, or NULL. */
const struct json_value *json_member(const struct json_value *obj,
				     const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const char *json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	}
	return "?";
}
