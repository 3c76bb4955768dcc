// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The arguments the SQS-shaped verbs share, parsed with json-c and checked
 * to the ranges of the uapi header before any queue is touched: queue
 * attributes (a JSON object of strings, as the aws CLI takes them, or the
 * shorthand Key=Value,...), message attributes, batch entries, ARNs, and
 * receipt handles; and what their output shares: MD5OfMessageAttributes
 * computed as SQS does, MessageAttributes as aws prints them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <kmq/topic.h>
#include "kmqctl.h"

#define ARN_PREFIX	"arn:aws:sqs:"
#define ARN_REGION	"local"
#define ARN_ACCOUNT	"000000000000"
#define ENTRY_ID_MAX	80

/* json_parse - all of @s as one JSON value, strictly (json-c alone stops
 * at the end of the first value and ignores what follows). NULL with the
 * reason in *@why. */
static struct json_object *json_parse(const char *s, const char **why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	size_t len = strlen(s), end;

	*why = "out of memory";
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len <= INT32_MAX)
		o = json_tokener_parse_ex(tok, s, (int)len);
	if (!o) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		*why = e == json_tokener_continue ? "unexpected end"
						  : json_tokener_error_desc(e);
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	while (end < len && isspace((unsigned char)s[end]))
		end++;
	if (end < len) {
		json_object_put(o);
		o = NULL;
		*why = "more after the JSON value";
	}
out:
	json_tokener_free(tok);
	return o;
}

/* ---- queue attributes ------------------------------------------------ */

enum qkey { K_VIS, K_RET, K_DELAY, K_WAIT, K_SIZE, K_REDRIVE, K_FIFO, K_CBD };

static const struct {
	const char *name;
	enum qkey key;
	uint32_t min, max;
} qkeys[] = {
	{ "VisibilityTimeout", K_VIS, 0, KMQ_VISIBILITY_MAX },
	{ "MessageRetentionPeriod", K_RET, KMQ_RETENTION_MIN, KMQ_RETENTION_MAX },
	{ "DelaySeconds", K_DELAY, 0, KMQ_DELAY_MAX },
	{ "ReceiveMessageWaitTimeSeconds", K_WAIT, 0, KMQ_WAIT_MAX },
	{ "MaximumMessageSize", K_SIZE, 1, KMQ_MSG_MAX },
	{ "RedrivePolicy", K_REDRIVE, 0, 0 },
	{ "FifoQueue", K_FIFO, 0, 0 },
	{ "ContentBasedDeduplication", K_CBD, 0, 0 },
};

#define NQKEYS	(sizeof(qkeys) / sizeof(qkeys[0]))

static int parse_bool(const char *cmd, const char *key, const char *v,
		      bool *out)
{
	if (!strcasecmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "false")) {
		*out = false;
		return 0;
	}
	fail(EXIT_USAGE, EINVAL, "%s: Attributes.%s '%s' is not true or false",
	     cmd, key, v);
	return -1;
}

const char *queue_arn(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, ARN_PREFIX ARN_REGION ":" ARN_ACCOUNT ":%s", name);
	return buf;
}

const char *parse_name_or_arn(const char *cmd, const char *opt, const char *s)
{
	const char *name = s, *p;
	int colons = 0;

	if (!s) {
		fail(EXIT_USAGE, EINVAL, "%s: missing %s", cmd, opt);
		return NULL;
	}
	if (!strncmp(s, ARN_PREFIX, strlen(ARN_PREFIX))) {
		/* arn:aws:sqs:REGION:ACCOUNT:NAME */
		for (p = s + strlen(ARN_PREFIX); *p; p++)
			if (*p == ':') {
				colons++;
				name = p + 1;
			}
		if (colons != 2) {
			fail(EXIT_USAGE, EINVAL,
			     "%s: %s '%s' is not arn:aws:sqs:REGION:ACCOUNT:NAME",
			     cmd, opt, s);
			return NULL;
		}
	} else if (!strncmp(s, QUEUE_URL_PREFIX, strlen(QUEUE_URL_PREFIX))) {
		name = s + strlen(QUEUE_URL_PREFIX);
	}
	if (!kmq_name_valid(name)) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: %s: bad queue name '%s' (1-%d characters of A-Z a-z 0-9 _ . -)",
		     cmd, opt, name, KMQ_NAME_MAX);
		return NULL;
	}
	return name;
}

/* redrive - RedrivePolicy's value: itself a JSON object (as a string),
 * {"deadLetterTargetArn": ARN or NAME, "maxReceiveCount": N or "N"};
 * "" or "{}" removes the policy. */
static int redrive(const char *cmd, const char *v, struct qattrs *a)
{
	struct json_object *o, *arn = NULL, *cnt = NULL;
	const char *name, *c, *why;
	uint64_t n;
	int ret = -1;

	a->has_redrive = true;
	a->dlq[0] = '\0';
	a->max_receive = 0;
	if (!*v)
		return 0;
	o = json_parse(v, &why);
	if (!o || !json_object_is_type(o, json_type_object)) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: Attributes.RedrivePolicy is not a JSON object: %s", cmd,
		     o ? "not an object" : why);
		goto out;
	}
	if (!json_object_object_length(o)) {
		ret = 0;
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "deadLetterTargetArn")) {
			arn = val;
		} else if (!strcmp(key, "maxReceiveCount")) {
			cnt = val;
		} else {
			fail(EXIT_USAGE, EINVAL,
			     "%s: Attributes.RedrivePolicy: unknown key '%s' (deadLetterTargetArn, maxReceiveCount)",
			     cmd, key);
			goto out;
		}
	}
	if (!arn || !json_object_is_type(arn, json_type_string) || !cnt) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: Attributes.RedrivePolicy needs deadLetterTargetArn (a string) and maxReceiveCount",
		     cmd);
		goto out;
	}
	name = parse_name_or_arn(cmd, "RedrivePolicy.deadLetterTargetArn",
				 json_object_get_string(arn));
	if (!name)
		goto out;
	if (json_object_is_type(cnt, json_type_int) ||
	    json_object_is_type(cnt, json_type_string)) {
		c = json_object_get_string(cnt);
	} else {
		fail(EXIT_USAGE, EINVAL,
		     "%s: RedrivePolicy.maxReceiveCount is not a number", cmd);
		goto out;
	}
	if (parse_uint(cmd, "RedrivePolicy.maxReceiveCount", c, 10, 1,
		       KMQ_RECEIVES_MAX, &n))
		goto out;
	snprintf(a->dlq, sizeof(a->dlq), "%s", name);
	a->max_receive = (uint32_t)n;
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

static int set_qattr(const char *cmd, const char *key, const char *v,
		     struct qattrs *a)
{
	char opt[64];
	uint64_t n;
	size_t i;

	for (i = 0; i < NQKEYS; i++)
		if (!strcmp(qkeys[i].name, key))
			break;
	if (i == NQKEYS) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: unknown attribute '%s' (VisibilityTimeout, MessageRetentionPeriod, DelaySeconds, ReceiveMessageWaitTimeSeconds, MaximumMessageSize, RedrivePolicy, FifoQueue, ContentBasedDeduplication)",
		     cmd, key);
		return -1;
	}
	switch (qkeys[i].key) {
	case K_REDRIVE:
		return redrive(cmd, v, a);
	case K_FIFO:
		a->has_fifo = true;
		return parse_bool(cmd, key, v, &a->fifo);
	case K_CBD:
		a->has_cbd = true;
		return parse_bool(cmd, key, v, &a->cbd);
	default:
		break;
	}
	snprintf(opt, sizeof(opt), "Attributes.%s", key);
	if (parse_uint(cmd, opt, v, 10, qkeys[i].min, qkeys[i].max, &n))
		return -1;
	switch (qkeys[i].key) {
	case K_VIS:
		a->has_vis = true;
		a->vis = (uint32_t)n;
		break;
	case K_RET:
		a->has_ret = true;
		a->ret = (uint32_t)n;
		break;
	case K_DELAY:
		a->has_delay = true;
		a->delay = (uint32_t)n;
		break;
	case K_WAIT:
		a->has_wait = true;
		a->wait = (uint32_t)n;
		break;
	default:
		a->has_size = true;
		a->size = (uint32_t)n;
		break;
	}
	return 0;
}

/* shorthand - Key=Value,Key=Value, for values without commas (a
 * RedrivePolicy needs the JSON form). */
static int shorthand(const char *cmd, const char *arg, struct qattrs *a)
{
	char *s = strdup(arg), *p = s, *key, *val;
	int ret = -1;

	if (!s)
		return fail(EXIT_FAIL, ENOMEM, "%s", cmd), -1;
	while (*p) {
		key = p;
		p += strcspn(p, "=,");
		if (*p != '=' || p == key) {
			fail(EXIT_USAGE, EINVAL,
			     "%s: --attributes: '%s' is not Key=Value (or a JSON object)",
			     cmd, key);
			goto out;
		}
		*p++ = '\0';
		val = p;
		p += strcspn(p, ",");
		if (*p == ',') {
			*p++ = '\0';
			if (!*p) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: --attributes: nothing after the last ','",
				     cmd);
				goto out;
			}
		}
		if (set_qattr(cmd, key, val, a))
			goto out;
	}
	ret = 0;
out:
	free(s);
	return ret;
}

int parse_qattrs(const char *cmd, const char *arg, struct qattrs *a)
{
	struct json_object *o;
	const char *p = arg, *why;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '{') {
		if (!*p) {
			fail(EXIT_USAGE, EINVAL, "%s: --attributes is empty", cmd);
			return -1;
		}
		return shorthand(cmd, arg, a);
	}
	o = json_parse(arg, &why);
	if (!o || !json_object_is_type(o, json_type_object)) {
		fail(EXIT_USAGE, EINVAL, "%s: --attributes is not a JSON object: %s",
		     cmd, o ? "not an object" : why);
		json_object_put(o);
		return -1;
	}
	json_object_object_foreach(o, key, val) {
		if (!json_object_is_type(val, json_type_string)) {
			fail(EXIT_USAGE, EINVAL,
			     "%s: Attributes.%s must be a string, as the aws CLI takes it",
			     cmd, key);
			ret = -1;
			break;
		}
		ret = set_qattr(cmd, key, json_object_get_string(val), a);
		if (ret)
			break;
	}
	json_object_put(o);
	return ret;
}

int qattrs_apply(const char *cmd, const struct qattrs *a, struct kmq_policy *p)
{
	bool fifo = p->flags & KMQ_POL_FIFO;

	if (a->has_fifo && a->fifo != fifo) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: FifoQueue is chosen at creation (with a name ending in .fifo) and cannot change",
		     cmd);
		return -1;
	}
	if (a->has_cbd && a->cbd && !fifo) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: ContentBasedDeduplication is for FIFO queues only", cmd);
		return -1;
	}
	if (a->has_vis)
		p->visibility_s = a->vis;
	if (a->has_ret)
		p->retention_s = a->ret;
	if (a->has_delay)
		p->delay_s = a->delay;
	if (a->has_wait)
		p->wait_s = a->wait;
	if (a->has_size)
		p->max_msg_size = a->size;
	if (a->has_redrive) {
		memset(p->dlq, 0, sizeof(p->dlq));
		memcpy(p->dlq, a->dlq, strlen(a->dlq));
		p->max_receive = a->max_receive;
	}
	if (a->has_cbd) {
		p->flags &= ~KMQ_POL_CONTENT_DEDUP;
		if (a->cbd)
			p->flags |= KMQ_POL_CONTENT_DEDUP;
	}
	return 0;
}

/* ---- message attributes ---------------------------------------------- */

void mattrs_free(struct mattrs *m)
{
	unsigned int i;

	for (i = 0; i < KMQ_ATTR_MAX; i++) {
		free(m->bin[i]);
		m->bin[i] = NULL;
	}
	json_object_put(m->json);
	m->json = NULL;
	m->n = 0;
}

/* b64_decode - strict base64 (with padding) into a malloc'd buffer. */
static int b64_decode(const char *s, unsigned char **out, uint32_t *len)
{
	size_t n = strlen(s), i, pad = 0;
	unsigned char *buf;
	int got;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad || !(isalnum((unsigned char)c) || c == '+' || c == '/'))
			return -1;
	}
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -1;
	got = n ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n) : 0;
	if (got < 0 || (size_t)got < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (uint32_t)((size_t)got - pad);
	return 0;
}

static const char *const attr_rules =
	"names: 1-255 of A-Z a-z 0-9 _ - ., not starting with AWS. or Amazon., "
	"no '..', not starting or ending with '.'; DataType String, Number or "
	"Binary, optionally .suffix; Number values are decimal numbers";

int mattrs_from_json(const char *cmd, const char *what, struct json_object *obj,
		     struct mattrs *m)
{
	m->n = 0;
	if (!json_object_is_type(obj, json_type_object)) {
		fail(EXIT_USAGE, EINVAL, "%s: %s is not a JSON object", cmd, what);
		return -1;
	}
	if (json_object_object_length(obj) > KMQ_ATTR_MAX) {
		fail(EXIT_USAGE, EINVAL, "%s: %s: %d attributes, at most %d",
		     cmd, what, json_object_object_length(obj), KMQ_ATTR_MAX);
		return -1;
	}
	json_object_object_foreach(obj, key, val) {
		struct kmq_attr *a = &m->a[m->n];
		struct json_object *t = NULL, *sv = NULL, *bv = NULL;
		const char *type;

		if (!json_object_is_type(val, json_type_object)) {
			fail(EXIT_USAGE, EINVAL,
			     "%s: %s.%s is not an object with DataType and StringValue or BinaryValue",
			     cmd, what, key);
			return -1;
		}
		json_object_object_foreach(val, k2, v2) {
			if (!strcmp(k2, "DataType"))
				t = v2;
			else if (!strcmp(k2, "StringValue"))
				sv = v2;
			else if (!strcmp(k2, "BinaryValue"))
				bv = v2;
			else {
				fail(EXIT_USAGE, EINVAL,
				     "%s: %s.%s: unknown key '%s' (DataType, StringValue, BinaryValue)",
				     cmd, what, key, k2);
				return -1;
			}
		}
		if (!t || !json_object_is_type(t, json_type_string)) {
			fail(EXIT_USAGE, EINVAL, "%s: %s.%s: DataType (a string) is missing",
			     cmd, what, key);
			return -1;
		}
		type = json_object_get_string(t);
		memset(a, 0, sizeof(*a));
		a->name = key;
		a->type = type;
		if (!strncmp(type, "Binary", 6)) {
			if (!bv || sv || !json_object_is_type(bv, json_type_string) ||
			    b64_decode(json_object_get_string(bv), &m->bin[m->n],
				       &a->len)) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: %s.%s: a Binary attribute needs BinaryValue, base64",
				     cmd, what, key);
				return -1;
			}
			a->value = m->bin[m->n];
		} else {
			if (!sv || bv || !json_object_is_type(sv, json_type_string)) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: %s.%s: a %s attribute needs StringValue (a string)",
				     cmd, what, key, type);
				return -1;
			}
			a->value = json_object_get_string(sv);
			a->len = (uint32_t)json_object_get_string_len(sv);
		}
		m->n++;
		/* with no room, only a rule broken is -EINVAL */
		if (kmq_attrs_encode(a, 1, NULL, 0) == -EINVAL) {
			fail(EXIT_USAGE, EINVAL, "%s: %s.%s (DataType %s) is not valid (%s)",
			     cmd, what, key, type, attr_rules);
			return -1;
		}
	}
	return 0;
}

int parse_mattrs(const char *cmd, const char *what, const char *arg,
		 struct mattrs *m)
{
	const char *why;

	memset(m, 0, sizeof(*m));
	m->json = json_parse(arg, &why);
	if (!m->json) {
		fail(EXIT_USAGE, EINVAL, "%s: %s is not JSON: %s", cmd, what, why);
		return -1;
	}
	if (mattrs_from_json(cmd, what, m->json, m)) {
		mattrs_free(m);
		return -1;
	}
	return 0;
}

static int attr_cmp(const void *x, const void *y)
{
	const struct kmq_attr *a = *(const struct kmq_attr *const *)x;
	const struct kmq_attr *b = *(const struct kmq_attr *const *)y;
	uint32_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);

	return c ? c : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static uint32_t len_of(const char *s, uint32_t given)
{
	return given ? given : (uint32_t)strlen(s);
}

static void md5_len(EVP_MD_CTX *c, const void *p, uint32_t len)
{
	unsigned char be[4] = { (unsigned char)(len >> 24),
				(unsigned char)(len >> 16),
				(unsigned char)(len >> 8), (unsigned char)len };

	EVP_DigestUpdate(c, be, 4);
	EVP_DigestUpdate(c, p, len);
}

/* SQS: for each attribute by name: length-prefixed (big endian, 4 bytes)
 * name and data type, a transport byte (1 string/number, 2 binary), and
 * the length-prefixed value. */
void md5_attrs_hex(const struct kmq_attr *a, unsigned int n, char out[33])
{
	struct kmq_attr m[KMQ_ATTR_MAX];
	const struct kmq_attr *s[KMQ_ATTR_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!c || n > KMQ_ATTR_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		m[i] = a[i];
		m[i].name_len = len_of(a[i].name, a[i].name_len);
		m[i].type_len = len_of(a[i].type, a[i].type_len);
		s[i] = &m[i];
	}
	qsort(s, n, sizeof(s[0]), attr_cmp);
	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	for (i = 0; i < n; i++) {
		unsigned char transport = strncmp(s[i]->type, "Binary", 6) ? 1 : 2;

		md5_len(c, s[i]->name, s[i]->name_len);
		md5_len(c, s[i]->type, s[i]->type_len);
		EVP_DigestUpdate(c, &transport, 1);
		md5_len(c, s[i]->value, s[i]->len);
	}
	EVP_DigestFinal_ex(c, md, &mdlen);
	for (i = 0; i < mdlen && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(c);
}

struct json_object *json_mattrs(const struct kmq_attr *a, unsigned int n)
{
	struct json_object *o = json_object_new_object();
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_new_object();
		char name[256], type[256];

		snprintf(name, sizeof(name), "%.*s", (int)a[i].name_len, a[i].name);
		snprintf(type, sizeof(type), "%.*s", (int)a[i].type_len, a[i].type);
		if (!strncmp(type, "Binary", 6)) {
			unsigned char *b64 = malloc(4 * ((a[i].len + 2) / 3) + 1);

			if (b64) {
				EVP_EncodeBlock(b64, a[i].value, (int)a[i].len);
				json_object_object_add(v, "BinaryValue",
					json_object_new_string((char *)b64));
				free(b64);
			}
		} else {
			json_object_object_add(v, "StringValue",
				json_object_new_string_len(a[i].value, (int)a[i].len));
		}
		json_object_object_add(v, "DataType", json_object_new_string(type));
		json_object_object_add(o, name, v);
	}
	return o;
}

/* ---- batch entries --------------------------------------------------- */

static bool entry_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= ENTRY_ID_MAX ||
		    !(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
			return false;
	return i > 0;
}

/* entries - the JSON array of 1..KMQ_SQS_BATCH_MAX objects, with distinct
 * valid Ids; calls @one for each. */
static int entries(const char *cmd, const char *arg, struct json_object **root,
		   int (*one)(const char *cmd, const char *what,
			      struct json_object *o, void *e, size_t i),
		   void *e)
{
	const char *ids[KMQ_SQS_BATCH_MAX], *why;
	size_t n, i, j;

	*root = json_parse(arg, &why);
	if (!*root || !json_object_is_type(*root, json_type_array)) {
		fail(EXIT_USAGE, EINVAL, "%s: --entries is not a JSON array: %s",
		     cmd, *root ? "not an array" : why);
		goto err;
	}
	n = json_object_array_length(*root);
	if (!n || n > KMQ_SQS_BATCH_MAX) {
		fail(EXIT_USAGE, EINVAL,
		     "%s: --entries has %zu entries, not 1-%d (TooManyEntriesInBatchRequest)",
		     cmd, n, KMQ_SQS_BATCH_MAX);
		goto err;
	}
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(*root, i), *id;
		char what[32];

		snprintf(what, sizeof(what), "entry %zu", i + 1);
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "Id", &id) ||
		    !json_object_is_type(id, json_type_string) ||
		    !entry_id_ok(json_object_get_string(id))) {
			fail(EXIT_USAGE, EINVAL,
			     "%s: --entries: %s needs an Id of 1-%d characters of A-Z a-z 0-9 - _",
			     cmd, what, ENTRY_ID_MAX);
			goto err;
		}
		ids[i] = json_object_get_string(id);
		for (j = 0; j < i; j++)
			if (!strcmp(ids[i], ids[j])) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: --entries: Id '%s' is used twice (BatchEntryIdsNotDistinct)",
				     cmd, ids[i]);
				goto err;
			}
		if (one(cmd, what, o, e, i))
			goto err;
	}
	return (int)n;
err:
	json_object_put(*root);
	*root = NULL;
	return -1;
}

static int string_field(const char *cmd, const char *what, const char *key,
			struct json_object *v, const char **out)
{
	if (!json_object_is_type(v, json_type_string)) {
		fail(EXIT_USAGE, EINVAL, "%s: --entries: %s: %s is not a string",
		     cmd, what, key);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

/* msg_key - a key both batch entries take: the body (@body_key), its group
 * and deduplication ids, its MessageAttributes. 1: taken, 0: not one of
 * them, -1: printed error. */
static int msg_key(const char *cmd, const char *what, const char *key,
		   struct json_object *v, const char *body_key, const char **body,
		   size_t *len, const char **group, const char **dedup,
		   struct mattrs *attrs)
{
	char w[64];

	if (!strcmp(key, body_key)) {
		if (string_field(cmd, what, key, v, body))
			return -1;
		*len = (size_t)json_object_get_string_len(v);
	} else if (!strcmp(key, "MessageGroupId")) {
		if (string_field(cmd, what, key, v, group))
			return -1;
	} else if (!strcmp(key, "MessageDeduplicationId")) {
		if (string_field(cmd, what, key, v, dedup))
			return -1;
	} else if (!strcmp(key, "MessageAttributes")) {
		snprintf(w, sizeof(w), "%s: MessageAttributes", what);
		if (mattrs_from_json(cmd, w, v, attrs))
			return -1;
	} else {
		return 0;
	}
	return 1;
}

static int send_one(const char *cmd, const char *what, struct json_object *o,
		    void *arg, size_t i)
{
	struct send_entry *e = (struct send_entry *)arg + i;
	int k;

	memset(e, 0, sizeof(*e));
	e->delay_s = -1;
	json_object_object_foreach(o, key, v) {
		k = msg_key(cmd, what, key, v, "MessageBody", &e->body, &e->len,
			    &e->group, &e->dedup, &e->attrs);
		if (k < 0)
			return -1;
		if (k || !strcmp(key, "Id"))
			continue;
		if (!strcmp(key, "DelaySeconds")) {
			int64_t d;

			if (!json_object_is_type(v, json_type_int) ||
			    (d = json_object_get_int64(v)) < 0 || d > KMQ_DELAY_MAX) {
				fail(EXIT_USAGE, ERANGE,
				     "%s: --entries: %s: DelaySeconds is not an integer in 0-%d",
				     cmd, what, KMQ_DELAY_MAX);
				return -1;
			}
			e->delay_s = (int)d;
			continue;
		}
		fail(EXIT_USAGE, EINVAL,
		     "%s: --entries: %s: unknown key '%s' (Id, MessageBody, DelaySeconds, MessageAttributes, MessageGroupId, MessageDeduplicationId)",
		     cmd, what, key);
		return -1;
	}
	e->id = json_object_get_string(json_object_object_get(o, "Id"));
	if (!e->body) {
		fail(EXIT_USAGE, EINVAL, "%s: --entries: %s has no MessageBody",
		     cmd, what);
		return -1;
	}
	return 0;
}

int parse_send_entries(const char *cmd, const char *arg, struct send_entry *e,
		       struct json_object **root)
{
	int n, i;

	memset(e, 0, KMQ_SQS_BATCH_MAX * sizeof(*e));
	n = entries(cmd, arg, root, send_one, e);
	if (n < 0)
		for (i = 0; i < KMQ_SQS_BATCH_MAX; i++)
			mattrs_free(&e[i].attrs);
	return n;
}

static int pub_one(const char *cmd, const char *what, struct json_object *o,
		   void *arg, size_t i)
{
	struct pub_entry *e = (struct pub_entry *)arg + i;
	int k;

	memset(e, 0, sizeof(*e));
	json_object_object_foreach(o, key, v) {
		k = msg_key(cmd, what, key, v, "Message", &e->body, &e->len,
			    &e->group, &e->dedup, &e->attrs);
		if (k < 0)
			return -1;
		if (k || !strcmp(key, "Id"))
			continue;
		if (!strcmp(key, "Subject")) {
			if (string_field(cmd, what, key, v, &e->subject))
				return -1;
			if (!*e->subject || strlen(e->subject) > KMQ_PUB_SUBJECT_MAX) {
				fail(EXIT_USAGE, EINVAL, "%s: --entries: %s: Subject must be 1-%d bytes",
				     cmd, what, KMQ_PUB_SUBJECT_MAX);
				return -1;
			}
			continue;
		}
		fail(EXIT_USAGE, EINVAL,
		     "%s: --entries: %s: unknown key '%s' (Id, Message, Subject, MessageAttributes, MessageGroupId, MessageDeduplicationId)",
		     cmd, what, key);
		return -1;
	}
	e->id = json_object_get_string(json_object_object_get(o, "Id"));
	if (!e->body) {
		fail(EXIT_USAGE, EINVAL, "%s: --entries: %s has no Message", cmd, what);
		return -1;
	}
	return 0;
}

int parse_publish_entries(const char *cmd, const char *arg,
			  struct pub_entry *e, struct json_object **root)
{
	int n, i;

	memset(e, 0, KMQ_PUBLISH_BATCH_MAX * sizeof(*e));
	n = entries(cmd, arg, root, pub_one, e);
	if (n < 0)
		for (i = 0; i < KMQ_PUBLISH_BATCH_MAX; i++)
			mattrs_free(&e[i].attrs);
	return n;
}

static int receipt_one(const char *cmd, const char *what,
		       struct json_object *o, void *arg, size_t i)
{
	struct receipt_entry *e = (struct receipt_entry *)arg + i;

	memset(e, 0, sizeof(*e));
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "Id")) {
			e->id = json_object_get_string(v);
		} else if (!strcmp(key, "ReceiptHandle")) {
			if (string_field(cmd, what, key, v, &e->handle))
				return -1;
		} else {
			fail(EXIT_USAGE, EINVAL,
			     "%s: --entries: %s: unknown key '%s' (Id, ReceiptHandle)",
			     cmd, what, key);
			return -1;
		}
	}
	if (!e->handle) {
		fail(EXIT_USAGE, EINVAL, "%s: --entries: %s has no ReceiptHandle",
		     cmd, what);
		return -1;
	}
	return 0;
}

int parse_receipt_entries(const char *cmd, const char *arg,
			  struct receipt_entry *e, struct json_object **root)
{
	return entries(cmd, arg, root, receipt_one, e);
}

/* ---- receipt handles ------------------------------------------------- */

#define RECEIPT_VERSION	1
#define RECEIPT_BYTES	15	/* version, 2 zero, receipt (LE), check */

static uint32_t receipt_check(const unsigned char *b)
{
	static const char salt[] = "kmq receipt";
	unsigned char md[EVP_MAX_MD_SIZE], in[sizeof(salt) + 11];
	unsigned int n = 0;

	memcpy(in, salt, sizeof(salt));
	memcpy(in + sizeof(salt), b, 11);
	if (!EVP_Digest(in, sizeof(in), md, &n, EVP_sha256(), NULL) || n < 4)
		return 0;
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	       (uint32_t)md[2] << 8 | md[3];
}

void receipt_encode(uint64_t receipt, char out[RECEIPT_STR_LEN + 1])
{
	unsigned char b[RECEIPT_BYTES] = { RECEIPT_VERSION, 0, 0 };
	uint32_t check;
	int i;

	for (i = 0; i < 8; i++)
		b[3 + i] = (unsigned char)(receipt >> (8 * i));
	check = receipt_check(b);
	for (i = 0; i < 4; i++)
		b[11 + i] = (unsigned char)(check >> (24 - 8 * i));
	EVP_EncodeBlock((unsigned char *)out, b, RECEIPT_BYTES);
	out[RECEIPT_STR_LEN] = '\0';
}

int receipt_decode(const char *s, uint64_t *receipt)
{
	unsigned char b[RECEIPT_BYTES + 3];
	uint32_t check;
	size_t i;
	int n;

	if (!s || strlen(s) != RECEIPT_STR_LEN)
		return -EINVAL;
	for (i = 0; i < RECEIPT_STR_LEN; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return -EINVAL;
	n = EVP_DecodeBlock(b, (const unsigned char *)s, RECEIPT_STR_LEN);
	if (n != RECEIPT_BYTES || b[0] != RECEIPT_VERSION || b[1] || b[2])
		return -EINVAL;
	check = (uint32_t)b[11] << 24 | (uint32_t)b[12] << 16 |
		(uint32_t)b[13] << 8 | b[14];
	if (check != receipt_check(b))
		return -EINVAL;
	*receipt = 0;
	for (i = 0; i < 8; i++)
		*receipt |= (uint64_t)b[3 + i] << (8 * i);
	return 0;
}

/* ---- lists and error codes ------------------------------------------- */

int parse_names_list(const char *cmd, const char *opt, const char *list,
		     const char *const *names, size_t n, bool *want)
{
	const char *p = list;
	size_t i, len;

	for (;;) {
		len = strcspn(p, ",");
		if (len == 3 && !strncmp(p, "All", 3)) {
			for (i = 0; i < n; i++)
				want[i] = true;
		} else {
			for (i = 0; i < n; i++)
				if (strlen(names[i]) == len &&
				    !strncmp(names[i], p, len))
					break;
			if (i == n || !len) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: %s: unknown name '%.*s'", cmd, opt,
				     (int)len, p);
				return -1;
			}
			want[i] = true;
		}
		p += len;
		if (!*p)
			return 0;
		p++;
	}
}

const char *sqs_error_code(int err)
{
	switch (err) {
	case -EINVAL:
		return "InvalidParameterValue";
	case -EMSGSIZE:
		return "MessageTooLong";
	case -ENOENT:
		return "ReceiptHandleIsInvalid";
	case -EAGAIN:
		return "QueueFull";
	case -EPERM:
	case -EACCES:
		return "AccessDenied";
	default:
		return "InternalError";
	}
}
