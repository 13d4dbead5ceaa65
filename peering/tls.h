/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls: private to peering/. The TLS context of the sessions and the peer identity check
 * (docs/protocol.md §1): TLS 1.3 only, mutual authentication against one CA, region id from
 * the certificate's `tidal:region:NAME` URI subjectAltName.
 */
#ifndef TIDAL_PEERING_TLS_H
#define TIDAL_PEERING_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define PEER_SAN_PREFIX "tidal:region:"

/* A context for both roles. On failure logs which file and why, returns NULL. If region is
 * given, our own certificate must carry it. */
SSL_CTX *peer_tls_ctx_new(const char *cert, const char *key, const char *ca, const char *region);
/* Region id of a certificate (exactly one tidal:region: URI SAN). 0, or -EINVAL with a
 * reason in why. */
int peer_tls_cert_region(X509 *cert, char *out, size_t len, const char **why);
/* Region id of the verified peer of a finished handshake. 0, or -EPERM with why set. */
int peer_tls_peer_region(SSL *ssl, char *out, size_t len, char *why, size_t why_len);
/* Most recent OpenSSL error (and verify result) as text, for logs. */
void peer_tls_errors(SSL *ssl, unsigned long first_err, char *buf, size_t len);

#endif
