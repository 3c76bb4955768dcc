// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Output and input of message bodies: JSON through json-c (its escaping is
 * correct for any byte), MD5 digests through libcrypto as aws reports them,
 * and the rule for bodies that are not text: valid UTF-8 is printed as a
 * JSON string (control characters and NUL escaped), anything else as base64
 * with "BodyEncoding": "base64", because JSON strings cannot carry it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "kmqctl.h"

ssize_t read_all(int fd, size_t max, unsigned char **out)
{
	size_t len = 0, room = 4096;
	unsigned char *buf = malloc(room), *nbuf;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == room) {
			if (room > max) {
				free(buf);
				return -EMSGSIZE;
			}
			room *= 2;
			nbuf = realloc(buf, room);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, room - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EMSGSIZE;
	}
	*out = buf;
	return (ssize_t)len;
}

void md5_hex(const void *data, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (!EVP_Digest(data, len, md, &n, EVP_md5(), NULL) || n != 16)
		n = 0;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * n] = '\0';
}

/* utf8_valid - strict UTF-8: no overlong forms, surrogates or values
 * beyond U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

struct json_object *json_body(const void *data, size_t len, bool *base64)
{
	struct json_object *o;
	unsigned char *b64;

	*base64 = !utf8_valid(data, len);
	if (!*base64)
		return json_object_new_string_len(data, (int)len);
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64)
		return NULL;
	EVP_EncodeBlock(b64, data, (int)len);
	o = json_object_new_string((char *)b64);
	free(b64);
	return o;
}

struct json_object *json_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_object_new_string(buf);
}

struct json_object *batch_failed(const char *id, bool sender, const char *code,
				 const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "Id", json_object_new_string(id));
	json_object_object_add(o, "SenderFault", json_object_new_boolean(sender));
	json_object_object_add(o, "Code", json_object_new_string(code));
	json_object_object_add(o, "Message", json_object_new_string(msg));
	return o;
}

int print_batch(const char *cmd, struct json_object *ok, struct json_object *bad)
{
	struct json_object *out = json_object_new_object();

	json_object_object_add(out, "Successful", ok);
	json_object_object_add(out, "Failed", bad);
	return print_json(cmd, out);
}

int print_json(const char *cmd, struct json_object *obj)
{
	const char *s;
	int ret = 0;

	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						JSON_C_TO_STRING_SPACED |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		ret = fail(EXIT_FAIL, ENOMEM, "%s: formatting output", cmd);
	else if (puts(s) == EOF || fflush(stdout) == EOF || ferror(stdout))
		ret = fail(EXIT_FAIL, errno, "%s: writing output", cmd);
	json_object_put(obj);
	return ret;
}
