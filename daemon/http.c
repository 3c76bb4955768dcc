// SPDX-License-Identifier: GPL-2.0
/*
 * http/https subscriptions: each attempt is a POST through libcurl's multi
 * interface, driven by kmqd's epoll loop (socket and timer callbacks), so
 * a slow or dead endpoint holds only its own attempts. TLS peers are
 * verified (libcurl's default, never turned off here). A 2xx answer is a
 * delivery; anything else, a connection error or the attempt's timeout is
 * a failed attempt for endpoint.c's retry policy. Every attempt first asks
 * [topics] http_allow (urlpolicy.h) and requests the URL as libcurl's URL
 * parser normalized it, with http/https only and no redirects: a URL the
 * rules no longer take fails at once (-EACCES: endpoint.c sends the
 * message to the dead-letter queue without retries).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <curl/curl.h>
#include "endpoint.h"
#include "urlpolicy.h"

static CURLM *multi;
static struct kmqd *D;
static struct timer curl_timer;

struct hreq {
	CURL *e;
	struct curl_slist *h;
};

static void check_done(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left))) {
		struct job *j = NULL;
		struct hreq *r;
		long code = 0;
		char why[160];
		bool ok;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		ok = m->data.result == CURLE_OK && code >= 200 && code < 300;
		if (m->data.result != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(m->data.result));
		else
			snprintf(why, sizeof(why), "HTTP status %ld", code);
		r = j->proto;
		curl_multi_remove_handle(multi, r->e);
		curl_easy_cleanup(r->e);
		curl_slist_free_all(r->h);
		free(r);
		j->proto = NULL;
		endpoint_done(j, ok, why);
	}
}

static void on_sock(struct kmqd *d, void *arg, uint32_t revents)
{
	int fd = (int)(intptr_t)arg, running, flags = 0;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(multi, fd, flags, &running);
	check_done();
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	uint32_t ev = 0;

	if (what == CURL_POLL_REMOVE) {
		kmqd_loop_del(D, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (kmqd_loop_add(D, s, ev, on_sock, (void *)(intptr_t)s) == -EEXIST)
		kmqd_loop_mod(D, s, ev);
	return 0;
}

static void on_timer(struct kmqd *d, void *arg)
{
	int running;

	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
	if (ms < 0)
		timer_cancel(D, &curl_timer);
	else
		timer_arm(D, &curl_timer, mono_ns() + (uint64_t)ms * 1000000ULL);
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
	return size * n;
}

int http_init(struct kmqd *d)
{
	if (multi)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	multi = curl_multi_init();
	if (!multi)
		return -ENOMEM;
	D = d;
	curl_timer.cb = on_timer;
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	return 0;
}

void http_fini(struct kmqd *d)
{
	if (!multi)
		return;
	timer_cancel(d, &curl_timer);
	curl_multi_cleanup(multi);
	multi = NULL;
	curl_global_cleanup();
}

static struct curl_slist *header(struct curl_slist *h, const char *name,
				 const char *value)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s: %s", name, value);
	return curl_slist_append(h, buf);
}

int http_start(struct job *j)
{
	struct endpoint *ep = j->ep;
	struct sub *s = ep->s;
	struct hreq *r;
	char why[1400], *url = NULL;
	int err;

	if (!multi)
		return -ENODEV;
	err = url_allowed(D->cfg.http_allow, s->endpoint, &url, why, sizeof(why));
	if (err) {
		log_debug("topic %s: %s", ep->t->name, why);
		return err;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(url);
		return -ENOMEM;
	}
	r->e = curl_easy_init();
	if (!r->e) {
		free(r);
		free(url);
		return -ENOMEM;
	}
	r->h = header(NULL, "Content-Type", "text/plain; charset=UTF-8");
	r->h = header(r->h, "x-amz-sns-message-type", "Notification");
	r->h = header(r->h, "x-amz-sns-message-id", j->msgid);
	r->h = header(r->h, "x-amz-sns-topic-arn", ep->t->arn);
	r->h = header(r->h, "x-amz-sns-subscription-arn", s->arn);
	if (s->raw)
		r->h = header(r->h, "x-amz-sns-rawdelivery", "true");
	curl_easy_setopt(r->e, CURLOPT_URL, url);	/* copied by curl */
	free(url);
	curl_easy_setopt(r->e, CURLOPT_PROTOCOLS_STR,
			 s->proto == PROTO_HTTPS ? "https" : "http");
	curl_easy_setopt(r->e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->e, CURLOPT_POST, 1L);
	curl_easy_setopt(r->e, CURLOPT_POSTFIELDS, j->payload);
	curl_easy_setopt(r->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->len);
	curl_easy_setopt(r->e, CURLOPT_HTTPHEADER, r->h);
	curl_easy_setopt(r->e, CURLOPT_USERAGENT, "kmqd/" KMQD_VERSION);
	curl_easy_setopt(r->e, CURLOPT_TIMEOUT, (long)ep->pol.timeout_s);
	curl_easy_setopt(r->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(r->e, CURLOPT_PRIVATE, (char *)j);
	curl_easy_setopt(r->e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->e, CURLOPT_SSL_VERIFYHOST, 2L);
	j->proto = r;
	if (curl_multi_add_handle(multi, r->e) != CURLM_OK) {
		curl_easy_cleanup(r->e);
		curl_slist_free_all(r->h);
		free(r);
		j->proto = NULL;
		return -EIO;
	}
	return 0;
}

void http_cancel(struct job *j)
{
	struct hreq *r = j->proto;

	if (!r)
		return;
	curl_multi_remove_handle(multi, r->e);
	curl_easy_cleanup(r->e);
	curl_slist_free_all(r->h);
	free(r);
	j->proto = NULL;
}
