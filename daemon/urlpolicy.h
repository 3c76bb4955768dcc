/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where kmqd (root) may POST: the [topics] http_allow rules, checked when
 * an http/https subscription is made, when subscriptions are loaded (start,
 * SIGHUP) and before every attempt (http.c). daemon/README.md documents the
 * rules; tests/daemon/test_urlpolicy.c tries hostile URLs against them.
 */
#ifndef KMQD_URLPOLICY_H
#define KMQD_URLPOLICY_H

#include <stddef.h>

/*
 * url_allowed - may kmqd POST to @url under @allow (a comma- or space-
 * separated list of rules: "*" for any http(s) URL, or an http:// or
 * https:// URL prefix: scheme and host must be equal (case aside; a host
 * "*.example.com" takes any name under example.com), the port equal when
 * the rule names one, and the path start with the rule's path at a "/"
 * boundary)? The URL is parsed by libcurl's URL parser, the one that makes
 * the request, after its normalization (dot segments, IPv4 forms): never
 * a URL with credentials (user@), a scheme other than http/https, or a
 * '%' in its host. Returns 0 (and, when @norm is not NULL, the normalized
 * URL to request in *@norm, malloc'd), -EINVAL (not such a URL) or
 * -EACCES (no rule takes it), with the reason for humans in @why.
 */
int url_allowed(const char *allow, const char *url, char **norm, char *why,
		size_t whylen);

#endif /* KMQD_URLPOLICY_H */
