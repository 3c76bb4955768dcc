// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Queue names: 1..KMQ_NAME_MAX characters of [A-Za-z0-9_.-], carried in
 * KMQ_NAME_LEN byte fields whose unused bytes are zero (the ABI's rule).
 */
#include <string.h>
#include "internal.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

KMQ_EXPORT int kmq_name_valid(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; name[i]; i++)
		if (i >= KMQ_NAME_MAX || !name_char(name[i]))
			return 0;
	return i > 0;
}

/* kmq_name_copy - @name into @dst with zero padding; -EINVAL if invalid. */
int kmq_name_copy(char dst[KMQ_NAME_LEN], const char *name)
{
	if (!kmq_name_valid(name))
		return -EINVAL;
	memset(dst, 0, KMQ_NAME_LEN);
	memcpy(dst, name, strlen(name));
	return 0;
}

/* kmq_create_args - the struct kmq_create asking for queue @name with @a
 * (defaults already applied), as both backends send it. */
int kmq_create_args(struct kmq_create *c, const char *name,
		    const struct kmq_qattr *a)
{
	memset(c, 0, sizeof(*c));
	c->type = KMQ_TYPE_QUEUE;
	c->capacity = a->capacity;
	c->max_msg_size = a->max_msg_size;
	c->mode = a->mode;
	c->flags = a->flags;
	return kmq_name_copy(c->name, name);
}

/* kmq_name_args - the struct kmq_name for queue @name. */
int kmq_name_args(struct kmq_name *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	return kmq_name_copy(n->name, name);
}
