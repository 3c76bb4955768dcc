// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * What the topic verbs share: a request to kmqd (KMQ_WIRE_TOPIC, JSON in
 * and out, printed as aws sns prints), and --attributes for subscriptions
 * (a JSON object of string values, or Key=Value,... where a value may hold
 * JSON with commas: splits are made only outside brackets and quotes),
 * and the one argument parser of the verbs that take a topic or a
 * subscription (topic_args).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kmqctl.h"

int topic_request(const char *cmd, struct json_object *req, bool print)
{
	char *reply = NULL;
	int err;

	err = kmq_topic_call(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			     &reply);
	json_object_put(req);
	if (err) {
		if (reply && *reply)
			fail(EXIT_FAIL, err, "%s: %s", cmd, reply);
		else
			fail(EXIT_FAIL, err, "%s", cmd);
		free(reply);
		return EXIT_FAIL;
	}
	if (print && reply) {
		struct json_object *o = json_tokener_parse(reply);

		free(reply);
		if (o && json_object_object_length(o))
			return print_json(cmd, o);
		json_object_put(o);
		return 0;
	}
	free(reply);
	return 0;
}

struct json_object *topic_req(const char *op)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(op));
	return o;
}

void req_str(struct json_object *req, const char *key, const char *val)
{
	if (val)
		json_object_object_add(req, key, json_object_new_string(val));
}

/* The value of a JSON-or-shorthand --attributes: a JSON object. */
struct json_object *parse_string_map(const char *cmd, const char *opt,
				     const char *arg)
{
	struct json_object *o;
	const char *p = arg;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '{') {
		o = json_tokener_parse(arg);
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			fail(EXIT_USAGE, EINVAL, "%s: %s is not a JSON object", cmd, opt);
			return NULL;
		}
		json_object_object_foreach(o, key, val) {
			if (!json_object_is_type(val, json_type_string)) {
				fail(EXIT_USAGE, EINVAL, "%s: %s: %s must be a string, as the aws CLI takes it",
				     cmd, opt, key);
				json_object_put(o);
				return NULL;
			}
		}
		return o;
	}
	o = json_object_new_object();
	while (*p) {
		const char *eq = strchr(p, '='), *q;
		int depth = 0;
		bool str = false;

		if (!eq || eq == p) {
			fail(EXIT_USAGE, EINVAL, "%s: %s: expected Key=Value,... or a JSON object",
			     cmd, opt);
			json_object_put(o);
			return NULL;
		}
		for (q = eq + 1; *q; q++) {
			if (str) {
				if (*q == '\\' && q[1])
					q++;
				else if (*q == '"')
					str = false;
			} else if (*q == '"') {
				str = true;
			} else if (*q == '{' || *q == '[') {
				depth++;
			} else if (*q == '}' || *q == ']') {
				depth--;
			} else if (*q == ',' && !depth) {
				break;
			}
		}
		{
			char *k = strndup(p, (size_t)(eq - p));

			json_object_object_add(o, k, json_object_new_string_len(eq + 1,
							(int)(q - eq - 1)));
			free(k);
		}
		p = *q ? q + 1 : q;
	}
	return o;
}

#define TARG_MAX	8

int topic_args(int argc, char **argv, const struct targ *a, unsigned int n)
{
	struct option opts[2 * TARG_MAX + 2];
	const char *cmd = argv[0], *pos = NULL, *arg;
	unsigned int i, k = 0;
	int c;

	if (n > TARG_MAX)
		return fail(EXIT_USAGE, EINVAL, "%s: too many arguments to parse", cmd), -1;
	for (i = 0; i < n; i++) {
		int has = a[i].flag ? no_argument : required_argument;

		opts[k++] = (struct option){ a[i].opt, has, NULL, 256 + (int)i };
		if (a[i].alias)
			opts[k++] = (struct option){ a[i].alias, has, NULL, 256 + (int)i };
	}
	opts[k++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[k] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = next_opt(argc, argv, opts)) != -1) {
		if (c == 'h')
			return 1;
		if (c < 256)
			return -1;
		*a[c - 256].val = a[c - 256].flag ? "" : optarg;
	}
	for (i = 0; i < n; i++)
		if (a[i].positional)
			break;
	if (i < n) {
		char what[64];

		snprintf(what, sizeof(what), "--%s", a[i].opt);
		pos = *a[i].val;
		arg = positional(cmd, argc, argv, pos ? pos : (a[i].required ? NULL : ""),
				 what);
		if (!arg)
			return -1;
		*a[i].val = *arg ? arg : pos;
	} else if (optind < argc) {
		fail(EXIT_USAGE, EINVAL, "%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (a[i].required && (!*a[i].val || !**a[i].val)) {
			fail(EXIT_USAGE, EINVAL, "%s: missing --%s", cmd, a[i].opt);
			return -1;
		}
	return 0;
}

static int one_arg_verb(int argc, char **argv, const struct targ *a,
			const char *op, const char *field, bool print)
{
	struct json_object *req;
	int err = topic_args(argc, argv, a, 1);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	req = topic_req(op);
	req_str(req, field, *a->val);
	return topic_request(argv[0], req, print);
}

int sub_verb(int argc, char **argv, const char *op, bool print)
{
	const char *arn = NULL;
	const struct targ a = { "subscription-arn", NULL, &arn, true, true, false };

	return one_arg_verb(argc, argv, &a, op, "subscription", print);
}

int topic_verb(int argc, char **argv, const char *op, bool print)
{
	const char *name = NULL;
	const struct targ a = { "topic", "topic-arn", &name, true, true, false };

	return one_arg_verb(argc, argv, &a, op, "name", print);
}

const char *pub_error_code(int err)
{
	switch (err) {
	case -EINVAL:
		return "InvalidParameter";
	case -EMSGSIZE:
		return "InvalidParameterValue";
	case -ENOENT:
		return "NotFound";
	case -EACCES:
	case -EPERM:
		return "AuthorizationError";
	case -EAGAIN:
	case -ETIMEDOUT:
		return "Throttled";
	case -ECANCELED:
		return "BatchEntryNotProcessed";
	default:
		return "InternalError";
	}
}
