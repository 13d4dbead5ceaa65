/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a TCP byte stream cut into messages the way a session reads it
 * (peer_frame_check on the buffered head, then peer_msg_decode on each whole message),
 * with the input delivered in chunks whose sizes come from the first input byte.
 *
 * Checks that framing never reports a length outside 4..65535, never consumes more than
 * it has, and that the same messages come out whatever the chunking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peering.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns how many messages decoded before the stream ended or was refused. */
static unsigned run(const uint8_t *data, size_t size, size_t chunk, uint32_t *types)
{
	static struct peer_msg m;
	static uint8_t buf[2 * PEER_MSG_MAX];
	size_t have = 0, fed = 0;
	unsigned n = 0;
	*types = 0;
	while (fed < size || have) {
		size_t take = size - fed < chunk ? size - fed : chunk;
		memcpy(buf + have, data + fed, take);
		have += take;
		fed += take;
		size_t mlen;
		struct peer_err err;
		int rc = peer_frame_check(buf, have, &mlen, &err);
		if (rc < 0)
			return n;
		if (rc == 0 || mlen > have) {
			if (fed == size)
				return n;
			continue;
		}
		if (mlen < PEER_HDR_LEN || mlen > PEER_MSG_MAX)
			abort();
		if (peer_msg_decode(buf, mlen, &m, &err) != 0)
			return n;
		*types = *types * 31 + m.type;
		n++;
		memmove(buf, buf + mlen, have - mlen);
		have -= mlen;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > PEER_MSG_MAX)
		return 0;
	size_t chunk = (size_t)data[0] % 97 + 1;
	uint32_t t1, t2;
	unsigned a = run(data + 1, size - 1, chunk, &t1);
	unsigned b = run(data + 1, size - 1, size, &t2);
	if (a != b || t1 != t2)
		abort();
	return 0;
}
