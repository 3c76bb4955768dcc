// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Message attributes in the encoding of the uapi header ("Message
 * attributes"): checked to the letter on encode, and parsed defensively on
 * decode, since a mapped sender may have written anything into its slot.
 *
 *   u8 count; count times: u8 name_len, u8 type_len, u32 value_len (LE),
 *   name, type, value
 *
 * Valid names: "Color", "my_attr.v2", "a-b". Invalid: "", ".a", "a.",
 * "a..b", "AWS.x", "amazon.y" (any case), "a b", 256 characters or more
 * (the length is one byte). Valid types: "String", "Number", "Binary",
 * "String.json", "Binary.gif". Invalid: "string", "String.", "Blob".
 * Values: 1 byte or more. Number values: [+-]digits[.digits] or
 * [+-].digits, at most 38 digits, then optionally e or E, a sign and 1..3
 * digits. Valid: "0", "-1.5", ".5", "1e-128". Invalid: "1.", "1e", "1e1000",
 * 39 digits.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "internal.h"

#define ATTR_HDR	6	/* name_len, type_len, value_len */
#define ATTR_LEN_MAX	255	/* name_len and type_len are one byte */
#define NUM_DIGITS_MAX	38	/* digits of a Number's mantissa */
#define EXP_DIGITS_MAX	3

static bool name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > ATTR_LEN_MAX || s[0] == '.' || s[len - 1] == '.')
		return false;
	if ((len >= 4 && !strncasecmp(s, "aws.", 4)) ||
	    (len >= 7 && !strncasecmp(s, "amazon.", 7)))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return false;
		if (c == '.' && i + 1 < len && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* base_type - 'S', 'N' or 'B' for a valid type, 0 for an invalid one. */
static char base_type(const char *s, size_t len)
{
	static const char *const bases[] = { "String", "Number", "Binary" };
	size_t i, b;

	if (!len || len > ATTR_LEN_MAX)
		return 0;
	for (b = 0; b < 3; b++) {
		size_t bl = strlen(bases[b]);

		if (len < bl || memcmp(s, bases[b], bl))
			continue;
		if (len == bl)
			return bases[b][0];
		if (s[bl] != '.' || len == bl + 1)
			return 0;
		for (i = bl + 1; i < len; i++)
			if (s[i] < 0x21 || s[i] > 0x7e)
				return 0;
		return bases[b][0];
	}
	return 0;
}

static size_t digits(const unsigned char *s, size_t i, size_t len)
{
	size_t start = i;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i - start;
}

static bool number_ok(const void *value, size_t len)
{
	const unsigned char *s = value;
	size_t i = 0, d, f = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	d = digits(s, i, len);
	i += d;
	if (i < len && s[i] == '.') {
		i++;
		f = digits(s, i, len);
		i += f;
		if (!f)
			return false;
	}
	if ((!d && !f) || d + f > NUM_DIGITS_MAX)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		d = digits(s, i, len);
		if (!d || d > EXP_DIGITS_MAX)
			return false;
		i += d;
	}
	return i == len;
}

/* one_ok - the rules for one attribute, names already measured. */
static bool one_ok(const struct kmq_attr *a)
{
	char t;

	if (!a->name || !a->type || !a->value || !a->len)
		return false;
	if (!name_ok(a->name, a->name_len) || memchr(a->name, 0, a->name_len))
		return false;
	t = base_type(a->type, a->type_len);
	if (!t)
		return false;
	return t != 'N' || number_ok(a->value, a->len);
}

static bool same_name(const struct kmq_attr *a, const struct kmq_attr *b)
{
	return a->name_len == b->name_len &&
	       !memcmp(a->name, b->name, a->name_len);
}

/* measured - @a with name_len/type_len filled in where 0 means strlen. */
static struct kmq_attr measured(const struct kmq_attr *a)
{
	struct kmq_attr m = *a;

	if (m.name && !m.name_len)
		m.name_len = (uint32_t)strnlen(m.name, ATTR_LEN_MAX + 1);
	if (m.type && !m.type_len)
		m.type_len = (uint32_t)strnlen(m.type, ATTR_LEN_MAX + 1);
	return m;
}

int kmq_attrs_size(const struct kmq_attr *attrs, unsigned int n, size_t *size)
{
	struct kmq_attr m[KMQ_ATTR_MAX];
	size_t total = 1;
	unsigned int i, j;

	*size = 0;
	if (!n)
		return 0;
	if (!attrs || n > KMQ_ATTR_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		m[i] = measured(&attrs[i]);
		if (!one_ok(&m[i]))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (same_name(&m[i], &m[j]))
				return -EINVAL;
		total += ATTR_HDR + m[i].name_len + m[i].type_len +
			 (size_t)m[i].len;
	}
	*size = total;
	return 0;
}

static unsigned char *put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
	return p + 4;
}

KMQ_EXPORT int kmq_attrs_encode(const struct kmq_attr *attrs, unsigned int n,
				void *buf, size_t cap)
{
	unsigned char *p = buf;
	unsigned int i;
	size_t size;
	int err;

	err = kmq_attrs_size(attrs, n, &size);
	if (err)
		return err;
	if (size > cap)
		return -ENOSPC;
	if (size > INT32_MAX)
		return -EMSGSIZE;
	if (!n)
		return 0;
	if (!buf)
		return -EINVAL;
	*p++ = (unsigned char)n;
	for (i = 0; i < n; i++) {
		struct kmq_attr m = measured(&attrs[i]);

		*p++ = (unsigned char)m.name_len;
		*p++ = (unsigned char)m.type_len;
		p = put_le32(p, m.len);
		memcpy(p, m.name, m.name_len);
		p += m.name_len;
		memcpy(p, m.type, m.type_len);
		p += m.type_len;
		if (m.len)
			memcpy(p, m.value, m.len);
		p += m.len;
	}
	return (int)size;
}

KMQ_EXPORT int kmq_attrs_decode(const void *buf, size_t len,
				struct kmq_attr *attrs, unsigned int max)
{
	const unsigned char *p = buf;
	size_t off = 1;
	unsigned int n, i, j;

	if (!len)
		return 0;
	if (!buf || (max && !attrs))
		return -EINVAL;
	n = p[0];
	if (!n || n > KMQ_ATTR_MAX)
		return -EINVAL;
	if (n > max)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		struct kmq_attr *a = &attrs[i];
		uint32_t vlen;

		if (len - off < ATTR_HDR)
			return -EINVAL;
		a->name_len = p[off];
		a->type_len = p[off + 1];
		vlen = (uint32_t)p[off + 2] | (uint32_t)p[off + 3] << 8 |
		       (uint32_t)p[off + 4] << 16 | (uint32_t)p[off + 5] << 24;
		off += ATTR_HDR;
		if ((uint64_t)a->name_len + a->type_len + vlen > len - off)
			return -EINVAL;
		a->name = (const char *)p + off;
		off += a->name_len;
		a->type = (const char *)p + off;
		off += a->type_len;
		a->value = p + off;
		a->len = vlen;
		off += vlen;
		if (!one_ok(a))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (same_name(a, &attrs[j]))
				return -EINVAL;
	}
	return off == len ? (int)n : -EINVAL;
}
