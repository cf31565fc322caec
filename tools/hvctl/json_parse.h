/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvctl: a small strict JSON parser (RFC 8259) that keeps the position of
 * every value, for configuration files and their error messages.
 */
#ifndef HVCTL_JSON_PARSE_H
#define HVCTL_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Nesting deeper than this is refused (no unbounded recursion). */
#define JSON_MAX_DEPTH		64

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/**
 * struct json_value - one parsed value
 * @type: what it is
 * @line: line of its first character, from 1
 * @col: column of its first character, from 1, in characters (UTF-8
 *	sequences count as one)
 * @boolean: JSON_BOOL: its value
 * @str: JSON_STRING: the decoded UTF-8 text, NUL-terminated (it may hold
 *	NULs of its own: see @len); JSON_NUMBER: the number as written
 * @len: JSON_STRING, JSON_NUMBER: bytes in @str
 * @n: JSON_ARRAY, JSON_OBJECT: number of elements or members
 * @items: JSON_ARRAY: the elements; JSON_OBJECT: the members' values
 * @keys: JSON_OBJECT: the members' keys (decoded, NUL-terminated; a key
 *	with a NUL in it is refused)
 */
struct json_value {
	enum json_type type;
	unsigned int line;
	unsigned int col;
	bool boolean;
	char *str;
	size_t len;
	size_t n;
	struct json_value *items;
	char **keys;
};

/**
 * struct json_error - why and where parsing failed
 * @line: line, from 1
 * @col: column, from 1, in characters
 * @msg: what is wrong
 */
struct json_error {
	unsigned int line;
	unsigned int col;
	char msg[128];
};

struct json_value *json_parse(const char *text, size_t len,
			      struct json_error *err);
void json_free(struct json_value *v);
const struct json_value *json_member(const struct json_value *obj,
				     const char *key);
const char *json_type_name(enum json_type type);

#endif /* HVCTL_JSON_PARSE_H */
