// SPDX-License-Identifier: GPL-2.0
/*
 * The http_allow matcher (urlpolicy.h): URL and rules both parsed by
 * libcurl's URL API, so that what is checked is what curl will connect to
 * (a "http://allowed@evil/" is evil's, and refused for its credentials
 * anyway), then compared part by part, never as strings.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "urlpolicy.h"

struct url {
	char scheme[8];
	char host[256];
	long port;		/* the effective port */
	bool port_given;
	bool any_sub;		/* rule: "*." + host */
	char path[1024];
};

static int part(CURLU *h, CURLUPart what, unsigned int flags, char *out,
		size_t n)
{
	char *v = NULL;
	int err = -EINVAL;

	if (curl_url_get(h, what, &v, flags) != CURLUE_OK)
		return -ENOENT;
	if (strlen(v) < n) {
		snprintf(out, n, "%s", v);
		err = 0;
	}
	curl_free(v);
	return err;
}

/* parse - @s into @u; @rule: a rule (the host may start with "*."). */
static int parse(const char *s, struct url *u, bool rule, char **norm,
		 char *why, size_t n)
{
	char buf[2048], port[16], *v = NULL;
	CURLU *h;
	size_t i;
	int err = -EINVAL;
	const char *star;

	memset(u, 0, sizeof(*u));
	if (strlen(s) >= sizeof(buf) - 16) {
		snprintf(why, n, "'%.64s...' is too long", s);
		return -EINVAL;
	}
	star = rule ? strstr(s, "://*.") : NULL;
	if (star) {	/* "*" as a name curl takes; taken off the host below */
		snprintf(buf, sizeof(buf), "%.*skmqwildcard%s", (int)(star + 3 - s), s,
			 star + 4);
		u->any_sub = true;
	} else {
		snprintf(buf, sizeof(buf), "%s", s);
	}
	h = curl_url();
	if (!h) {
		snprintf(why, n, "out of memory");
		return -ENOMEM;
	}
	if (curl_url_set(h, CURLUPART_URL, buf, 0) != CURLUE_OK) {
		snprintf(why, n, "'%s' is not a URL", s);
		goto out;
	}
	if (part(h, CURLUPART_SCHEME, 0, u->scheme, sizeof(u->scheme)) ||
	    (strcmp(u->scheme, "http") && strcmp(u->scheme, "https"))) {
		snprintf(why, n, "'%s' is not an http:// or https:// URL", s);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_USER, &v, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &v, 0) == CURLUE_OK) {
		curl_free(v);
		snprintf(why, n, "'%s' holds credentials (user@): kmqd refuses them (they would be stored and listed)",
			 s);
		goto out;
	}
	if (part(h, CURLUPART_HOST, 0, u->host, sizeof(u->host)) || !u->host[0] ||
	    strchr(u->host, '%')) {
		snprintf(why, n, "'%s' has no host kmqd takes", s);
		goto out;
	}
	for (i = 0; u->host[i]; i++)
		u->host[i] = (char)tolower((unsigned char)u->host[i]);
	if (u->any_sub)
		memmove(u->host, u->host + 11, strlen(u->host + 11) + 1);
	u->port_given = !part(h, CURLUPART_PORT, 0, port, sizeof(port));
	if (part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT, port, sizeof(port)))
		goto out;
	u->port = strtol(port, NULL, 10);
	if (part(h, CURLUPART_PATH, 0, u->path, sizeof(u->path)))
		snprintf(u->path, sizeof(u->path), "/");
	if (norm) {
		if (curl_url_get(h, CURLUPART_URL, norm, 0) != CURLUE_OK) {
			snprintf(why, n, "'%s' is not a URL", s);
			goto out;
		}
	}
	err = 0;
out:
	curl_url_cleanup(h);
	return err;
}

static bool host_match(const struct url *r, const char *host)
{
	size_t hl = strlen(host), rl = strlen(r->host);

	if (!r->any_sub)
		return !strcmp(r->host, host);
	/* "*.example.com": "a.example.com", not "example.com", not
	 * "badexample.com" (r->host is ".example.com") */
	return hl > rl && !strcmp(host + hl - rl, r->host);
}

static bool path_match(const char *rule, const char *path)
{
	size_t n = strlen(rule);

	if (!strcmp(rule, "/") || !*rule)
		return true;
	if (strncmp(path, rule, n))
		return false;
	return rule[n - 1] == '/' || path[n] == 0 || path[n] == '/';
}

int url_allowed(const char *allow, const char *url, char **norm, char *why,
		size_t whylen)
{
	struct url u, r;
	char rule[1024], rwhy[160];
	const char *p = allow ? allow : "";
	char *nu = NULL;
	int err;

	if (norm)
		*norm = NULL;
	err = parse(url, &u, false, &nu, why, whylen);
	if (err)
		return err;
	while (*p) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (!n)
			break;
		snprintf(rule, sizeof(rule), "%.*s", (int)n, p);
		p += n;
		if (!strcmp(rule, "*"))
			goto ok;
		if (parse(rule, &r, true, NULL, rwhy, sizeof(rwhy)))
			continue;	/* config.c checked it; a bad rule takes nothing */
		if (strcmp(r.scheme, u.scheme) || !host_match(&r, u.host) ||
		    (r.port_given && r.port != u.port) || !path_match(r.path, u.path))
			continue;
		goto ok;
	}
	snprintf(why, whylen, "'%s' is not allowed: kmqd's [topics] http_allow (%s) has no rule for it",
		 nu ? nu : url, allow && *allow ? allow : "empty");
	curl_free(nu);
	return -EACCES;
ok:
	if (norm) {
		*norm = strdup(nu);
		if (!*norm)
			err = -ENOMEM;
	}
	curl_free(nu);
	return err;
}
