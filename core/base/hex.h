/* SPDX-License-Identifier: Apache-2.0 */
/* The value of one hexadecimal digit, for the decoders of percent-escapes and \u escapes. */
#ifndef OUTRIG_CORE_BASE_HEX_H
#define OUTRIG_CORE_BASE_HEX_H

/* 0..15 for 0-9, a-f and A-F; -1 for any other byte (a char that is negative included). */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
