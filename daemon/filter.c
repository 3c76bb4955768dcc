// SPDX-License-Identifier: GPL-2.0
/*
 * SNS-style filter policies (filter.h says what a policy may hold): a policy
 * is parsed with json-c, checked once (operators, operand types, the SNS
 * limits), kept as its json-c tree and interpreted per message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "filter.h"

#define NUM_LIMIT	1e9
#define DEPTH_MAX	32

struct filter {
	enum filter_scope scope;
	json_object *policy;
};

/* A value a condition looks at: an attribute's value or a body leaf. */
enum fv_type { FV_STR, FV_NUM, FV_BOOL, FV_NULL, FV_OTHER };
struct fval {
	enum fv_type type;
	const char *s;
	size_t len;
	double num;
	int b;
};

int filter_scope_parse(const char *s)
{
	if (!strcmp(s, "MessageAttributes"))
		return FILTER_ATTRIBUTES;
	if (!strcmp(s, "MessageBody"))
		return FILTER_BODY;
	return -1;
}

/* ---- checking -------------------------------------------------------------- */

struct check {
	enum filter_scope scope;
	char *err;
	size_t errlen;
};

static int bad(struct check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct check *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "Invalid parameter: FilterPolicy: ");

	if (n < 0 || (size_t)n >= c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_num(json_object *o)
{
	return json_object_is_type(o, json_type_int) ||
	       json_object_is_type(o, json_type_double);
}

static int check_num(struct check *c, json_object *o)
{
	double v = json_object_get_double(o);

	if (!isfinite(v) || v < -NUM_LIMIT || v > NUM_LIMIT)
		return bad(c, "Numeric value %s is out of range (-1e9 to 1e9)",
			   json_object_to_json_string(o));
	return 0;
}

static bool is_str(json_object *o)
{
	return json_object_is_type(o, json_type_string);
}

static int check_wildcard(struct check *c, const char *s)
{
	if (strstr(s, "**"))
		return bad(c, "wildcard \"%s\": consecutive '*' are not allowed", s);
	return 0;
}

static int parse_cidr(const char *s, unsigned char addr[16], int *family,
		      int *bits)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long b;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash++ = 0;
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else
		return -1;
	if (!*slash)
		return -1;
	b = strtol(slash, &end, 10);
	if (*end || b < 0 || b > (*family == AF_INET ? 32 : 128))
		return -1;
	*bits = (int)b;
	return 0;
}

static int check_anything_but(struct check *c, json_object *v)
{
	if (is_str(v))
		return 0;
	if (is_num(v))
		return check_num(c, v);
	if (json_object_is_type(v, json_type_array)) {
		size_t i, n = json_object_array_length(v);

		if (!n)
			return bad(c, "anything-but: empty array");
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);

			if (is_num(e)) {
				if (check_num(c, e))
					return -EINVAL;
			} else if (!is_str(e)) {
				return bad(c, "anything-but: array elements must be strings or numbers");
			}
		}
		return 0;
	}
	if (json_object_is_type(v, json_type_object) &&
	    json_object_object_length(v) == 1) {
		json_object_object_foreach(v, op, arg) {
			if (!strcmp(op, "prefix") || !strcmp(op, "suffix") ||
			    !strcmp(op, "wildcard") ||
			    !strcmp(op, "equals-ignore-case")) {
				if (!is_str(arg) || !*json_object_get_string(arg))
					return bad(c, "anything-but: %s needs a non-empty string", op);
				if (!strcmp(op, "wildcard"))
					return check_wildcard(c, json_object_get_string(arg));
				return 0;
			}
			return bad(c, "Unsupported anything-but pattern: %s", op);
		}
	}
	return bad(c, "anything-but: needs a value, an array of values, or {prefix|suffix|wildcard|equals-ignore-case}");
}

static bool lower_op(const char *op)
{
	return !strcmp(op, ">") || !strcmp(op, ">=");
}

static bool upper_op(const char *op)
{
	return !strcmp(op, "<") || !strcmp(op, "<=");
}

static int check_numeric(struct check *c, json_object *v)
{
	size_t n, i;

	if (!json_object_is_type(v, json_type_array))
		return bad(c, "numeric: needs an array such as [\">\", 0, \"<=\", 5]");
	n = json_object_array_length(v);
	if (n != 2 && n != 4)
		return bad(c, "numeric: needs one comparison or a range of two");
	for (i = 0; i < n; i += 2) {
		json_object *op = json_object_array_get_idx(v, i);
		json_object *num = json_object_array_get_idx(v, i + 1);
		const char *s;

		if (!is_str(op))
			return bad(c, "numeric: expected an operator, got %s",
				   json_object_to_json_string(op));
		s = json_object_get_string(op);
		if (strcmp(s, "=") && !lower_op(s) && !upper_op(s))
			return bad(c, "Unrecognized numeric range operator: %s", s);
		if (!is_num(num))
			return bad(c, "numeric: value for %s must be a number", s);
		if (check_num(c, num))
			return -EINVAL;
		if (n == 4 && i == 0 && !lower_op(s))
			return bad(c, "numeric: a range starts with > or >=");
		if (n == 4 && i == 2 && !upper_op(s))
			return bad(c, "numeric: a range ends with < or <=");
	}
	if (n == 4 && json_object_get_double(json_object_array_get_idx(v, 1)) >=
		      json_object_get_double(json_object_array_get_idx(v, 3)))
		return bad(c, "numeric: bottom must be less than top");
	return 0;
}

static int check_cond(struct check *c, json_object *e)
{
	unsigned char addr[16];
	int fam, bits;

	if (is_str(e))
		return 0;
	if (is_num(e))
		return check_num(c, e);
	if (!e || json_object_is_type(e, json_type_boolean)) {
		if (c->scope == FILTER_BODY)
			return 0;
		return bad(c, "Match value must be String, number, true, false, or null (true, false and null: MessageBody scope)");
	}
	if (!json_object_is_type(e, json_type_object))
		return bad(c, "Match value must be String, number, true, false, or null");
	if (json_object_object_length(e) != 1)
		return bad(c, "Only one key allowed in match expression");
	json_object_object_foreach(e, op, v) {
		if (!strcmp(op, "prefix") || !strcmp(op, "suffix") ||
		    !strcmp(op, "equals-ignore-case") || !strcmp(op, "wildcard")) {
			if (!is_str(v))
				return bad(c, "%s match pattern must be a string", op);
			if (strcmp(op, "equals-ignore-case") &&
			    !*json_object_get_string(v))
				return bad(c, "%s match pattern must not be empty", op);
			if (!strcmp(op, "wildcard"))
				return check_wildcard(c, json_object_get_string(v));
			return 0;
		}
		if (!strcmp(op, "anything-but"))
			return check_anything_but(c, v);
		if (!strcmp(op, "numeric"))
			return check_numeric(c, v);
		if (!strcmp(op, "exists")) {
			if (!json_object_is_type(v, json_type_boolean))
				return bad(c, "exists match pattern must be either true or false");
			return 0;
		}
		if (!strcmp(op, "cidr")) {
			if (!is_str(v) || parse_cidr(json_object_get_string(v),
						     addr, &fam, &bits))
				return bad(c, "Malformed CIDR, one '/' required");
			return 0;
		}
		return bad(c, "Unrecognized match type %s", op);
	}
	return 0;
}

/* check_level - one object of the policy; counts its keys (the most in any
 * one combination) and combinations. */
static int check_level(struct check *c, json_object *o, int depth,
		       double *keys, double *combos)
{
	*keys = 0;
	*combos = 1;
	if (depth > DEPTH_MAX)
		return bad(c, "nested too deeply");
	if (!json_object_object_length(o))
		return bad(c, "an object of the policy is empty");
	json_object_object_foreach(o, key, v) {
		double k, n;
		size_t i, len;

		if (!strcmp(key, "$or")) {
			double kmax = 0, sum = 0;

			if (!json_object_is_type(v, json_type_array) ||
			    json_object_array_length(v) < 2)
				return bad(c, "$or needs an array of at least two policies");
			len = json_object_array_length(v);
			for (i = 0; i < len; i++) {
				json_object *b = json_object_array_get_idx(v, i);

				if (!json_object_is_type(b, json_type_object))
					return bad(c, "$or: every branch must be an object");
				if (check_level(c, b, depth + 1, &k, &n))
					return -EINVAL;
				if (k > kmax)
					kmax = k;
				sum += n;
			}
			*keys += kmax;
			*combos *= sum;
			continue;
		}
		if (json_object_is_type(v, json_type_array)) {
			len = json_object_array_length(v);
			if (!len)
				return bad(c, "Empty arrays are not allowed (key %s)", key);
			for (i = 0; i < len; i++)
				if (check_cond(c, json_object_array_get_idx(v, i)))
					return -EINVAL;
			*keys += 1;
			*combos *= (double)len;
			continue;
		}
		if (json_object_is_type(v, json_type_object) &&
		    c->scope == FILTER_BODY) {
			if (check_level(c, v, depth + 1, &k, &n))
				return -EINVAL;
			*keys += k;
			*combos *= n;
			continue;
		}
		return bad(c, "\"%s\" must be an array of conditions%s", key,
			   c->scope == FILTER_BODY ? " or a nested object" :
			   " (nested keys need FilterPolicyScope MessageBody)");
	}
	return 0;
}

int filter_compile(const char *json, enum filter_scope scope,
		   struct filter **out, char *err, size_t errlen)
{
	struct check c = { .scope = scope, .err = err, .errlen = errlen };
	struct json_tokener *tok;
	json_object *o;
	struct filter *f;
	double keys, combos;
	size_t len = strlen(json);

	if (len > FILTER_MAX_BYTES)
		return bad(&c, "longer than %u bytes", FILTER_MAX_BYTES);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		json_object_put(o);
		json_tokener_free(tok);
		return bad(&c, "not valid JSON (%s)",
			   e == json_tokener_success ? "trailing characters" :
			   json_tokener_error_desc(e));
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return bad(&c, "a policy is a JSON object");
	}
	if (check_level(&c, o, 0, &keys, &combos)) {
		json_object_put(o);
		return -EINVAL;
	}
	if (keys > FILTER_MAX_KEYS) {
		json_object_put(o);
		return bad(&c, "Filter policy can not have more than %d keys",
			   FILTER_MAX_KEYS);
	}
	if (combos > FILTER_MAX_COMBOS) {
		json_object_put(o);
		return bad(&c, "Filter policy is too complex (%.0f combinations, at most %d)",
			   combos, FILTER_MAX_COMBOS);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		json_object_put(o);
		return -ENOMEM;
	}
	f->scope = scope;
	f->policy = o;
	*out = f;
	return 0;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	json_object_put(f->policy);
	free(f);
}

/* ---- matching -------------------------------------------------------------- */

static bool wild(const char *p, const char *s, size_t n)
{
	/* Iterative glob with '*' only, backtracking to the last star. */
	const char *star = NULL;
	size_t i = 0, mark = 0;

	while (i < n) {
		if (*p == '*') {
			star = p++;
			mark = i;
		} else if (*p && *p == s[i]) {
			p++;
			i++;
		} else if (star) {
			p = star + 1;
			i = ++mark;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool cidr_match(const char *cidr, const struct fval *v)
{
	unsigned char net[16], ip[16];
	char buf[INET6_ADDRSTRLEN];
	int fam, bits, i;

	if (v->type != FV_STR || v->len >= sizeof(buf) ||
	    parse_cidr(cidr, net, &fam, &bits))
		return false;
	memcpy(buf, v->s, v->len);
	buf[v->len] = 0;
	if (inet_pton(fam, buf, ip) != 1)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (ip[i] != net[i])
			return false;
	if (bits % 8) {
		unsigned char m = (unsigned char)(0xff << (8 - bits % 8));

		if ((ip[i] & m) != (net[i] & m))
			return false;
	}
	return true;
}

static bool str_eq(json_object *c, const struct fval *v)
{
	const char *s = json_object_get_string(c);
	size_t n = (size_t)json_object_get_string_len(c);

	return v->type == FV_STR && v->len == n && !memcmp(v->s, s, n);
}

static bool num_eq(json_object *c, const struct fval *v)
{
	return v->type == FV_NUM && v->num == json_object_get_double(c);
}

static bool prefix(const char *p, const struct fval *v)
{
	size_t n = strlen(p);

	return v->type == FV_STR && v->len >= n && !memcmp(v->s, p, n);
}

static bool suffix(const char *p, const struct fval *v)
{
	size_t n = strlen(p);

	return v->type == FV_STR && v->len >= n &&
	       !memcmp(v->s + v->len - n, p, n);
}

static bool ieq(const char *p, const struct fval *v)
{
	return v->type == FV_STR && strlen(p) == v->len &&
	       !strncasecmp(v->s, p, v->len);
}

static bool numeric(json_object *a, const struct fval *v)
{
	size_t i, n = json_object_array_length(a);

	if (v->type != FV_NUM)
		return false;
	for (i = 0; i < n; i += 2) {
		const char *op = json_object_get_string(json_object_array_get_idx(a, i));
		double x = json_object_get_double(json_object_array_get_idx(a, i + 1));
		bool ok;

		if (!strcmp(op, "="))
			ok = v->num == x;
		else if (!strcmp(op, "<"))
			ok = v->num < x;
		else if (!strcmp(op, "<="))
			ok = v->num <= x;
		else if (!strcmp(op, ">"))
			ok = v->num > x;
		else
			ok = v->num >= x;
		if (!ok)
			return false;
	}
	return true;
}

/* excluded - does @v fall in anything-but's set @a? */
static bool excluded(json_object *a, const struct fval *v)
{
	if (is_str(a))
		return str_eq(a, v);
	if (is_num(a))
		return num_eq(a, v);
	if (json_object_is_type(a, json_type_array)) {
		size_t i, n = json_object_array_length(a);

		for (i = 0; i < n; i++)
			if (excluded(json_object_array_get_idx(a, i), v))
				return true;
		return false;
	}
	json_object_object_foreach(a, op, arg) {
		const char *s = json_object_get_string(arg);

		if (!strcmp(op, "prefix"))
			return prefix(s, v);
		if (!strcmp(op, "suffix"))
			return suffix(s, v);
		if (!strcmp(op, "equals-ignore-case"))
			return ieq(s, v);
		return v->type == FV_STR && wild(s, v->s, v->len);
	}
	return false;
}

/* cond - does condition @c hold for one value @v? */
static bool cond(json_object *c, const struct fval *v)
{
	if (!c)
		return v->type == FV_NULL;
	if (is_str(c))
		return str_eq(c, v);
	if (is_num(c))
		return num_eq(c, v);
	if (json_object_is_type(c, json_type_boolean))
		return v->type == FV_BOOL && v->b == json_object_get_boolean(c);
	json_object_object_foreach(c, op, arg) {
		if (!strcmp(op, "prefix"))
			return prefix(json_object_get_string(arg), v);
		if (!strcmp(op, "suffix"))
			return suffix(json_object_get_string(arg), v);
		if (!strcmp(op, "equals-ignore-case"))
			return ieq(json_object_get_string(arg), v);
		if (!strcmp(op, "wildcard"))
			return v->type == FV_STR &&
			       wild(json_object_get_string(arg), v->s, v->len);
		if (!strcmp(op, "numeric"))
			return numeric(arg, v);
		if (!strcmp(op, "cidr"))
			return cidr_match(json_object_get_string(arg), v);
	}
	return false;
}

/* leaf - does one of the conditions in array @conds hold for the key whose
 * values are @vals (@present: the key is there at all)? */
static bool leaf(json_object *conds, const struct fval *vals, size_t n,
		 bool present)
{
	size_t i, j, nc = json_object_array_length(conds);

	for (i = 0; i < nc; i++) {
		json_object *c = json_object_array_get_idx(conds, i), *arg;

		if (c && json_object_is_type(c, json_type_object) &&
		    json_object_object_get_ex(c, "exists", &arg)) {
			if (json_object_get_boolean(arg) == present)
				return true;
			continue;
		}
		if (c && json_object_is_type(c, json_type_object) &&
		    json_object_object_get_ex(c, "anything-but", &arg)) {
			bool hit = false;

			for (j = 0; j < n && !hit; j++)
				hit = excluded(arg, &vals[j]);
			if (n && !hit)
				return true;
			continue;
		}
		for (j = 0; j < n; j++)
			if (cond(c, &vals[j]))
				return true;
	}
	return false;
}

/* ---- attribute scope ---------------------------------------------------- */

struct amsg {
	const struct kmq_attr *attrs;
	unsigned int n;
};

static bool type_is(const struct kmq_attr *a, const char *base, bool exact)
{
	size_t n = strlen(base), tl = a->type_len;

	if (tl < n || memcmp(a->type, base, n))
		return false;
	return tl == n || (!exact && a->type[n] == '.');
}

static bool json_fval(json_object *o, struct fval *v)
{
	memset(v, 0, sizeof(*v));
	if (!o) {
		v->type = FV_NULL;
	} else if (is_str(o)) {
		v->type = FV_STR;
		v->s = json_object_get_string(o);
		v->len = (size_t)json_object_get_string_len(o);
	} else if (is_num(o)) {
		v->type = FV_NUM;
		v->num = json_object_get_double(o);
	} else if (json_object_is_type(o, json_type_boolean)) {
		v->type = FV_BOOL;
		v->b = json_object_get_boolean(o);
	} else {
		v->type = FV_OTHER;
		return false;
	}
	return true;
}

static bool attr_key(json_object *conds, const struct kmq_attr *a)
{
	struct fval one = { 0 }, *vals = NULL;
	json_object *arr = NULL;
	size_t n = 0, i;
	bool r;
	char num[64];

	if (!a)
		return leaf(conds, NULL, 0, false);
	if (type_is(a, "String.Array", true)) {
		char *s = strndup(a->value, a->len);

		arr = s ? json_tokener_parse(s) : NULL;
		free(s);
		if (arr && json_object_is_type(arr, json_type_array)) {
			n = json_object_array_length(arr);
			vals = calloc(n ? n : 1, sizeof(*vals));
			if (!vals)
				n = 0;
			for (i = 0; i < n; i++)
				json_fval(json_object_array_get_idx(arr, i), &vals[i]);
		}
		r = leaf(conds, vals, n, true);
		free(vals);
		json_object_put(arr);
		return r;
	}
	if (type_is(a, "Number", false)) {
		char *end;

		if (a->len < sizeof(num)) {
			memcpy(num, a->value, a->len);
			num[a->len] = 0;
			one.num = strtod(num, &end);
			if (end != num && !*end) {
				one.type = FV_NUM;
				n = 1;
			}
		}
	} else if (type_is(a, "String", false)) {
		one.type = FV_STR;
		one.s = a->value;
		one.len = a->len;
		n = 1;
	}
	return leaf(conds, &one, n, true);
}

static const struct kmq_attr *attr_find(const struct amsg *m, const char *key)
{
	size_t kl = strlen(key);
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		const struct kmq_attr *a = &m->attrs[i];
		size_t nl = a->name_len ? a->name_len : strlen(a->name);

		if (nl == kl && !memcmp(a->name, key, kl))
			return a;
	}
	return NULL;
}

static bool attr_level(json_object *pol, const struct amsg *m)
{
	json_object_object_foreach(pol, key, v) {
		if (!strcmp(key, "$or")) {
			size_t i, n = json_object_array_length(v);
			bool any = false;

			for (i = 0; i < n && !any; i++)
				any = attr_level(json_object_array_get_idx(v, i), m);
			if (!any)
				return false;
			continue;
		}
		if (!attr_key(v, attr_find(m, key)))
			return false;
	}
	return true;
}

/* ---- body scope ------------------------------------------------------------ */

struct nodes {
	json_object **v;
	size_t n, cap;
};

static void push(struct nodes *ns, json_object *o)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 8;
		json_object **p = realloc(ns->v, cap * sizeof(*p));

		if (!p)
			return;
		ns->v = p;
		ns->cap = cap;
	}
	ns->v[ns->n++] = o;
}

/* flat - @o, with arrays (at any depth) flattened into their elements. */
static void flat(struct nodes *ns, json_object *o, int depth)
{
	size_t i, n;

	if (o && json_object_is_type(o, json_type_array) && depth < DEPTH_MAX) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			flat(ns, json_object_array_get_idx(o, i), depth + 1);
		return;
	}
	push(ns, o);
}

/* children - the values under @key of every object in @in. */
static bool children(const struct nodes *in, const char *key, struct nodes *out)
{
	bool present = false;
	size_t i;

	for (i = 0; i < in->n; i++) {
		json_object *v;

		if (!in->v[i] || !json_object_is_type(in->v[i], json_type_object) ||
		    !json_object_object_get_ex(in->v[i], key, &v))
			continue;
		present = true;
		flat(out, v, 0);
	}
	return present;
}

static bool body_level(json_object *pol, const struct nodes *at)
{
	json_object_object_foreach(pol, key, v) {
		struct nodes kids = { 0 };
		bool ok;

		if (!strcmp(key, "$or")) {
			size_t i, n = json_object_array_length(v);

			ok = false;
			for (i = 0; i < n && !ok; i++)
				ok = body_level(json_object_array_get_idx(v, i), at);
			if (!ok)
				return false;
			continue;
		}
		children(at, key, &kids);
		if (json_object_is_type(v, json_type_object)) {
			ok = body_level(v, &kids);
		} else {
			struct fval *vals = calloc(kids.n ? kids.n : 1, sizeof(*vals));
			size_t i, n = 0;

			/* exists: a leaf is there (a nested object is not). */
			for (i = 0; vals && i < kids.n; i++)
				if (json_fval(kids.v[i], &vals[n]))
					n++;
			ok = vals && leaf(v, vals, n, n > 0);
			free(vals);
		}
		free(kids.v);
		if (!ok)
			return false;
	}
	return true;
}

bool filter_match(const struct filter *f, const struct kmq_attr *attrs,
		  unsigned int n, const void *body, size_t len)
{
	struct json_tokener *tok;
	json_object *doc;
	struct nodes top = { 0 };
	bool r;

	if (!f)
		return true;
	if (f->scope == FILTER_ATTRIBUTES) {
		struct amsg m = { attrs, n };

		return attr_level(f->policy, &m);
	}
	tok = json_tokener_new();
	if (!tok)
		return false;
	doc = json_tokener_parse_ex(tok, body, (int)len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		json_tokener_free(tok);
		return false;
	}
	json_tokener_free(tok);
	push(&top, doc);
	r = top.n && body_level(f->policy, &top);
	free(top.v);
	json_object_put(doc);
	return r;
}
