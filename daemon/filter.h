/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SNS-style subscription filter policies: compile a policy (JSON, parsed with
 * json-c) once when a subscription is created or changed, then match every
 * published message against it. Pure code: no kmqd state, unit-tested alone.
 *
 * A policy is a JSON object. With scope MessageAttributes its keys are
 * message attribute names; with scope MessageBody they are keys of the JSON
 * body, and a key's value may be a nested object (nested keys). A leaf is an
 * array of conditions, of which one must hold (OR within a key); every key
 * must hold (AND across keys); "$or": [policy, ...] at any level needs one of
 * its branches. Conditions:
 *
 *   "text"                            exact string
 *   12.5                              exact number (numeric comparison)
 *   true, false, null                 body scope: exact JSON value
 *   {"prefix": "p"}                   {"suffix": "s"}
 *   {"equals-ignore-case": "t"}       {"wildcard": "a*b"} ('*': any run)
 *   {"anything-but": v | [v, ...] | {"prefix"|"suffix"|"wildcard": s}}
 *   {"numeric": ["=", 5]} or [">", 0, "<=", 10] (one lower, one upper bound)
 *   {"exists": true|false}
 *   {"cidr": "10.0.0.0/24"}          IPv4 or IPv6 prefix
 *
 * An attribute of type String matches string conditions, Number matches
 * numeric ones (and exact numbers), String.Array holds a JSON array whose
 * elements are matched one by one (one is enough); Binary never matches. A
 * missing key matches only {"exists": false}; anything-but needs the key.
 * Limits, as SNS: at most 5 keys in any one combination, at most 150
 * combinations (the product of each key's number of conditions, summed over
 * "$or" branches), numbers within +-1e9, a policy of at most 256 KiB.
 */
#ifndef KMQD_FILTER_H
#define KMQD_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <kmq.h>

#define FILTER_MAX_KEYS		5
#define FILTER_MAX_COMBOS	150
#define FILTER_MAX_BYTES	(256 * 1024)

enum filter_scope { FILTER_ATTRIBUTES, FILTER_BODY };

struct filter;

/* filter_compile - parse and check policy @json for @scope. 0 and *@out, or
 * -EINVAL with a one-line reason in @err (e.g. "Filter policy can not have
 * more than 5 keys"). The caller frees *@out with filter_free(). */
int filter_compile(const char *json, enum filter_scope scope,
		   struct filter **out, char *err, size_t errlen);
void filter_free(struct filter *f);
/* filter_scope_parse - "MessageAttributes" / "MessageBody"; -1 otherwise. */
int filter_scope_parse(const char *s);

/* filter_match - does a message with @n attributes @attrs (names and types
 * by length, as kmq_attrs_decode gives them) and body @body (@len bytes)
 * pass @f? A NULL @f passes everything. Body scope: a body that is not a
 * JSON object passes nothing. */
bool filter_match(const struct filter *f, const struct kmq_attr *attrs,
		  unsigned int n, const void *body, size_t len);

#endif /* KMQD_FILTER_H */
