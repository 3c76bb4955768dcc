// SPDX-License-Identifier: GPL-2.0
/*
 * Message attributes: the kernel checks the encoding of every attribute
 * block sent through KMQ_IOC_SQS_SEND, so that copy-path receivers get only
 * what the specification allows. Receivers of mapped queues must still
 * parse defensively: a mapper may write anything.
 */
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/unaligned.h>

#include <uapi/linux/kmq.h>

#include "attrs.h"

/* Digits of precision a Number may carry (as SQS). */
#define KMQ_ATTR_NUMBER_DIGITS	38
#define KMQ_ATTR_HDR		6	/* name_len, type_len, value_len */

static bool kmq_attr_name_char(u8 ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

static bool kmq_attr_prefix(const u8 *name, u32 len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncasecmp((const char *)name, prefix, n);
}

static int kmq_attr_name_check(const u8 *name, u32 len)
{
	u32 i;

	if (!len || name[0] == '.' || name[len - 1] == '.')
		return -EINVAL;
	if (kmq_attr_prefix(name, len, "AWS.") ||
	    kmq_attr_prefix(name, len, "Amazon."))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!kmq_attr_name_char(name[i]))
			return -EINVAL;
		if (i && name[i] == '.' && name[i - 1] == '.')
			return -EINVAL;
	}
	return 0;
}

/* "String", "Number" or "Binary", then optionally "." and a custom suffix
 * of printable ASCII. Sets *@number for Number types. */
static int kmq_attr_type_check(const u8 *type, u32 len, bool *number)
{
	static const char * const base[] = { "String", "Number", "Binary" };
	u32 i, j;

	for (i = 0; i < ARRAY_SIZE(base); i++) {
		if (len < 6 || memcmp(type, base[i], 6))
			continue;
		if (len > 6) {
			if (type[6] != '.' || len == 7)
				return -EINVAL;
			for (j = 7; j < len; j++)
				if (type[j] < 0x21 || type[j] > 0x7e)
					return -EINVAL;
		}
		*number = i == 1;
		return 0;
	}
	return -EINVAL;
}

/* [+-]? digits [. digits] | [+-]? . digits, then [eE][+-]?digits;
 * at least one digit, at most KMQ_ATTR_NUMBER_DIGITS of them. */
static int kmq_attr_number_check(const u8 *v, u32 len)
{
	u32 i = 0, digits = 0, frac = 0;

	if (i < len && (v[i] == '+' || v[i] == '-'))
		i++;
	for (; i < len && v[i] >= '0' && v[i] <= '9'; i++)
		digits++;
	if (i < len && v[i] == '.') {
		for (i++; i < len && v[i] >= '0' && v[i] <= '9'; i++)
			frac++;
	}
	if (!digits && !frac)
		return -EINVAL;
	if (digits + frac > KMQ_ATTR_NUMBER_DIGITS)
		return -EINVAL;
	if (i < len && (v[i] == 'e' || v[i] == 'E')) {
		u32 exp = 0;

		i++;
		if (i < len && (v[i] == '+' || v[i] == '-'))
			i++;
		for (; i < len && v[i] >= '0' && v[i] <= '9'; i++)
			exp++;
		if (!exp || exp > 3)
			return -EINVAL;
	}
	return i == len ? 0 : -EINVAL;
}

int kmq_attrs_check(const u8 *buf, u32 len)
{
	const u8 *names[KMQ_ATTR_MAX];
	u8 name_lens[KMQ_ATTR_MAX];
	u32 count, i, j, off = 1;

	if (!len)
		return 0;
	count = buf[0];
	if (!count || count > KMQ_ATTR_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		u32 nlen, tlen, vlen;
		bool number = false;
		const u8 *p;

		if (len - off < KMQ_ATTR_HDR)
			return -EINVAL;
		p = buf + off;
		nlen = p[0];
		tlen = p[1];
		vlen = get_unaligned_le32(p + 2);
		off += KMQ_ATTR_HDR;
		if ((u64)nlen + tlen + vlen > len - off)
			return -EINVAL;
		p = buf + off;
		if (kmq_attr_name_check(p, nlen) ||
		    kmq_attr_type_check(p + nlen, tlen, &number) || !vlen ||
		    (number && kmq_attr_number_check(p + nlen + tlen, vlen)))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (name_lens[j] == nlen && !memcmp(names[j], p, nlen))
				return -EINVAL;
		names[i] = p;
		name_lens[i] = nlen;
		off += nlen + tlen + vlen;
	}
	return off == len ? 0 : -EINVAL;
}
