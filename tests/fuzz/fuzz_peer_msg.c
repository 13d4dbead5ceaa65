/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: peer_msg_decode on one whole message (docs/protocol.md §2-§4).
 *
 * Properties checked beyond "no crash, no sanitizer report": a refusal always names a
 * NOTIFICATION code 1..3 (or an OPEN error) with a log message; an accepted message
 * re-encodes, and the re-encoding decodes to the same type and fields and is
 * byte-identical when encoded again (the encoder is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peering.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peer_msg m, m2;
	struct peer_err err;

	if (peer_msg_decode(data, size, &m, &err) != 0) {
		if (err.code < PEER_ERR_HEADER || err.code > PEER_ERR_MESSAGE || !err.msg[0])
			abort();
		return 0;
	}
	struct tb_writer w1, w2;
	tb_writer_init(&w1, PEER_MSG_MAX);
	tb_writer_init(&w2, PEER_MSG_MAX);
	if (peer_msg_encode(&m, &w1) != 0)
		abort();
	if (peer_msg_decode(w1.data, w1.len, &m2, &err) != 0)
		abort();
	if (m2.type != m.type || m2.present != m.present)
		abort();
	if (peer_msg_encode(&m2, &w2) != 0 || w2.len != w1.len ||
	    memcmp(w1.data, w2.data, w1.len) != 0)
		abort();
	if ((m.type >= PEER_MSG_LEASE_REQUEST) && (m.present & LEASE_F_PARAMS) &&
	    !lease_params_equal(&m, &m2))
		abort();
	tb_writer_free(&w1);
	tb_writer_free(&w2);
	return 0;
}
