// SPDX-License-Identifier: GPL-2.0
/*
 * hvctl: the little JSON output needs (strings; numbers are printed with
 * printf, objects and arrays by the callers).
 */
#include "hvctl.h"

/*
 * Print @s (at most @maxlen bytes, stopping at a NUL) as a JSON string.
 * Bytes outside printable ASCII are escaped as \u00XX so that the output
 * stays valid UTF-8 whatever the input.
 */
void json_string(FILE *out, const char *s, size_t maxlen)
{
	size_t i;

	fputc('"', out);
	for (i = 0; i < maxlen && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
