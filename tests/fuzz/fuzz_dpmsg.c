/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the tidal-dp control message decoder (dataplane/dpmsg.c).
 *
 * Any bytes: the decoder must refuse or accept without reading past the input (ASan) and
 * without leaking what it allocated. Accepted frames must re-encode, and the re-encoding
 * must decode and encode again to the same bytes (one canonical form per message).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dpmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpmsg m, m2;
	struct tb_writer w1, w2;
	const char *why;

	if (dpmsg_decode(data, size, &m, &why) != 0)
		return 0;
	tb_writer_init(&w1, DPMSG_MAX_LEN);
	tb_writer_init(&w2, DPMSG_MAX_LEN);
	if (dpmsg_encode(&w1, &m) != 0)
		abort(); /* a decoded message is always encodable */
	if (dpmsg_decode(w1.data, w1.len, &m2, &why) != 0)
		abort();
	if (dpmsg_encode(&w2, &m2) != 0 || w1.len != w2.len || memcmp(w1.data, w2.data, w1.len))
		abort();
	dpmsg_clear(&m);
	dpmsg_clear(&m2);
	tb_writer_free(&w1);
	tb_writer_free(&w2);
	return 0;
}
