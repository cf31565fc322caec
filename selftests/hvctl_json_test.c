// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of hvctl's JSON parser (tools/hvctl/json_parse.c, built in):
 * valid texts and the values they give (escapes, UTF-8, numbers as
 * written, positions), and invalid ones with the line and column each
 * error must report. Needs nothing from the kernel. TAP output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/hvctl/json_parse.c"

static unsigned int n, failed;

static void __attribute__((format(printf, 2, 3)))
result(int good, const char *fmt, ...)
{
	va_list ap;

	n++;
	if (!good)
		failed++;
	printf("%s %u - ", good ? "ok" : "not ok", n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* @text for a test's name: printable ASCII, the rest as \xNN, cut short. */
static const char *shown(const char *text, size_t len)
{
	static char buf[48];
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(buf); i++) {
		unsigned char c = text[i];

		if (c >= 0x20 && c < 0x7f)
			buf[o++] = c;
		else
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* An invalid text: the error must be at @line:@col and mention @word. */
static void bad(const char *text, size_t len, unsigned int line,
		unsigned int col, const char *word)
{
	struct json_error err;
	struct json_value *v;

	v = json_parse(text, len, &err);
	if (v) {
		result(0, "'%s' is refused", shown(text, len));
		json_free(v);
		return;
	}
	result(err.line == line && err.col == col && strstr(err.msg, word),
	       "'%s' is refused at %u:%u (%s)", shown(text, len), line, col,
	       word);
	if (err.line != line || err.col != col || !strstr(err.msg, word))
		printf("# got %u:%u: %s\n", err.line, err.col, err.msg);
}

#define BAD(text, line, col, word) bad(text, sizeof(text) - 1, line, col, word)

static struct json_value *good(const char *text)
{
	struct json_error err;
	struct json_value *v = json_parse(text, strlen(text), &err);

	result(v != NULL, "'%s' parses", shown(text, strlen(text)));
	if (!v)
		printf("# %u:%u: %s\n", err.line, err.col, err.msg);
	return v;
}

static void valid(void)
{
	static const char *const texts[] = {
		"{}", "[]", "0", "-0", "1.5e-3", "-12.25E+2", "\"\"", "true",
		"false", "null", " \t\r\n[ 1 , \"a\" , [ ] , { } ]\n ",
		"{\"a\":{\"b\":[null,true,false]}}",
	};
	const struct json_value *m;
	struct json_value *v;
	char deep[2 * JSON_MAX_DEPTH + 1];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		json_free(good(texts[i]));

	v = good("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"");
	result(v && v->type == JSON_STRING && v->len == 18 &&
	       !memcmp(v->str, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 19),
	       "escapes decode to UTF-8");
	json_free(v);

	v = good("\"a\\u0000b\"");
	result(v && v->len == 3 && !memcmp(v->str, "a\0b", 4),
	       "\\u0000 is kept, with the length");
	json_free(v);

	v = good("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	result(v && v->len == 9, "raw UTF-8 passes");
	json_free(v);

	v = good("[1.50, -0e0, 18446744073709551616]");
	result(v && v->n == 3 && !strcmp(v->items[0].str, "1.50") &&
	       !strcmp(v->items[1].str, "-0e0") &&
	       !strcmp(v->items[2].str, "18446744073709551616"),
	       "numbers keep their text");
	json_free(v);

	v = good("{\n  \"a\": [1,\n    2],\n\t\"\xc3\xa9\": \"x\"\n}");
	m = json_member(v, "a");
	result(m && m->type == JSON_ARRAY && m->line == 2 && m->col == 8 &&
	       m->n == 2 && m->items[1].line == 3 && m->items[1].col == 5,
	       "positions of values (line 2 col 8, line 3 col 5)");
	m = json_member(v, "\xc3\xa9");
	result(m && m->line == 4 && m->col == 7 && !strcmp(m->str, "x"),
	       "a UTF-8 character is one column");
	result(!json_member(v, "b") && !json_member(m, "a"),
	       "json_member: absent key, not an object");
	json_free(v);

	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	deep[2 * JSON_MAX_DEPTH] = '\0';
	json_free(good(deep));
}

static void invalid(void)
{
	char deep[2 * JSON_MAX_DEPTH + 3];

	BAD("", 1, 1, "end of the input");
	BAD("  \n ", 2, 2, "end of the input");
	BAD("{\"a\":1,}", 1, 8, "trailing comma");
	BAD("[1,]", 1, 4, "trailing comma");
	BAD("[1,,2]", 1, 4, "expected a value");
	BAD("{a:1}", 1, 2, "key in double quotes");
	BAD("{'a':1}", 1, 2, "key in double quotes");
	BAD("['a']", 1, 2, "double quotes");
	BAD("[01]", 1, 2, "leading zeros");
	BAD("[-01]", 1, 2, "leading zeros");
	BAD("[1.]", 1, 4, "decimal point");
	BAD("[1e]", 1, 4, "exponent");
	BAD("[-]", 1, 3, "digit");
	BAD("[+1]", 1, 2, "expected a value");
	BAD("[.5]", 1, 2, "expected a value");
	BAD("[0x10]", 1, 3, "not 'x'");
	BAD("[NaN]", 1, 2, "expected a value");
	BAD("\"abc", 1, 5, "unterminated string");
	BAD("\"a\\qb\"", 1, 3, "invalid escape");
	BAD("\"\\ud800\"", 1, 2, "high surrogate");
	BAD("\"\\ud800\\u0041\"", 1, 2, "high surrogate");
	BAD("\"\\udc00\"", 1, 2, "low surrogate");
	BAD("\"\\u12g4\"", 1, 6, "four hexadecimal");
	BAD("\"a\tb\"", 1, 3, "control character");
	BAD("\"a\nb\"", 1, 3, "control character");
	BAD("\"\xc3\x28\"", 1, 2, "UTF-8");
	BAD("\"\xc0\xaf\"", 1, 2, "UTF-8");
	BAD("\"\xed\xa0\x80\"", 1, 2, "UTF-8");
	BAD("\"\xf4\x90\x80\x80\"", 1, 2, "UTF-8");
	BAD("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}'");
	BAD("{\"a\" 1}", 1, 6, "expected ':'");
	BAD("{\"a\":1,\"a\":2}", 1, 8, "duplicate key \"a\"");
	BAD("{\"a\\u0000\":1}", 1, 2, "NUL");
	BAD("[1 2]", 1, 4, "expected ',' or ']'");
	BAD("[1", 1, 3, "unterminated array");
	BAD("{\"a\":1", 1, 7, "unterminated object");
	BAD("[1] x", 1, 5, "after the end");
	BAD("{} {}", 1, 4, "after the end");
	BAD("// c\n{}", 1, 1, "comments");
	BAD("{\"a\": /* c */ 1}", 1, 7, "comments");
	BAD("[nul]", 1, 2, "invalid literal");
	BAD("[truex]", 1, 2, "invalid literal");
	BAD("[True]", 1, 2, "expected a value");
	BAD("{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}", 3, 14, "trailing comma");
	BAD("{\r\n  \"a\": 1\r\n  \"b\": 2\r\n}", 3, 3, "expected ',' or '}'");
	BAD("[1,\0 2]", 1, 4, "NUL byte");
	BAD("\xef\xbb\xbf{}", 1, 1, "byte order mark");
	BAD("{\"\xc3\xa9\": x}", 1, 7, "expected a value");

	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	bad(deep, 2 * JSON_MAX_DEPTH + 2, 1, JSON_MAX_DEPTH + 1, "nesting");
}

int main(void)
{
	printf("TAP version 13\n");
	valid();
	invalid();
	printf("1..%u\n", n);
	return failed ? 1 : 0;
}
