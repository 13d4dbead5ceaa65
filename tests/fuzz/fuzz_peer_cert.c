/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the region identity a peer's certificate yields (peering/tls.c,
 * docs/protocol.md §1). The DER parse is OpenSSL's; what is fuzzed is our walk over the
 * subjectAltNames: exactly one tidal:region: URI, no NUL, a valid region id, never a read
 * past the names OpenSSL returns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "peering.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *cert = d2i_X509(NULL, &p, (long)size);
	if (!cert)
		return 0;
	char region[PEER_REGION_MAX];
	const char *why = NULL;
	if (peer_tls_cert_region(cert, region, sizeof(region), &why) == 0) {
		if (!peer_region_valid(region))
			abort();
	} else if (!why) {
		abort();
	}
	X509_free(cert);
	return 0;
}
