/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls: the OpenSSL 3 side of peering sessions (docs/protocol.md §1).
 *
 * Owns the SSL_CTX it creates (the caller frees it with SSL_CTX_free). Must never accept a
 * handshake below TLS 1.3, a peer without a certificate, or an identity taken from anything
 * but the tidal:region: URI of a verified certificate.
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "peering.h"

static void log_ssl_error(const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	log_err("peering: %s %s: %s", what, file, e ? buf : "unknown error");
	ERR_clear_error();
}

SSL_CTX *peer_tls_ctx_new(const char *cert, const char *key, const char *ca, const char *region)
{
	if (!cert || !*cert || !key || !*key || !ca || !*ca) {
		log_err("peering: [peering] needs certificate, private_key and ca");
		return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		log_ssl_error("cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		log_ssl_error("cannot load certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		log_ssl_error("cannot load private key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_err("peering: private key %s does not match certificate %s", key, cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		log_ssl_error("cannot load CA", ca);
		goto fail;
	}
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);

	if (region) {
		char own[PEER_REGION_MAX];
		const char *why = NULL;
		if (peer_tls_cert_region(SSL_CTX_get0_certificate(ctx), own, sizeof(own), &why)) {
			log_err("peering: certificate %s: %s (expected URI:%s%s)", cert, why,
			        PEER_SAN_PREFIX, region);
			goto fail;
		}
		if (strcmp(own, region) != 0) {
			log_err("peering: certificate %s names region '%s' but this region is '%s'",
			        cert, own, region);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int peer_tls_cert_region(X509 *cert, char *out, size_t len, const char **why)
{
	*why = NULL;
	if (!cert) {
		*why = "no certificate";
		return -EINVAL;
	}
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (!sans) {
		*why = "no subjectAltName";
		return -EINVAL;
	}
	int found = 0;
	size_t plen = strlen(PEER_SAN_PREFIX);
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type != GEN_URI)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		int n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		if (n < 0 || (size_t)n <= plen || memcmp(d, PEER_SAN_PREFIX, plen) != 0)
			continue;
		size_t rn = (size_t)n - plen;
		if (rn >= len || memchr(d + plen, 0, rn)) {
			*why = "region id in the certificate is too long or has a NUL";
			found = -1;
			break;
		}
		if (++found > 1) {
			*why = "more than one tidal:region: URI in the certificate";
			break;
		}
		memcpy(out, d + plen, rn);
		out[rn] = '\0';
	}
	GENERAL_NAMES_free(sans);
	if (found == 1 && !peer_region_valid(out)) {
		*why = "region id in the certificate must be 1..63 of A-Z a-z 0-9 -";
		return -EINVAL;
	}
	if (found == 1)
		return 0;
	if (!*why)
		*why = "no URI subjectAltName tidal:region:NAME";
	return -EINVAL;
}

int peer_tls_peer_region(SSL *ssl, char *out, size_t len, char *why, size_t why_len)
{
	long vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK) {
		snprintf(why, why_len, "certificate not verified: %s",
		         X509_verify_cert_error_string(vr));
		return -EPERM;
	}
	if (SSL_version(ssl) != TLS1_3_VERSION) {
		snprintf(why, why_len, "not TLS 1.3");
		return -EPERM;
	}
	X509 *cert = SSL_get0_peer_certificate(ssl);
	const char *w = NULL;
	if (peer_tls_cert_region(cert, out, len, &w)) {
		snprintf(why, why_len, "peer certificate: %s", w);
		return -EPERM;
	}
	return 0;
}

void peer_tls_errors(SSL *ssl, unsigned long first_err, char *buf, size_t len)
{
	char e[200] = "";
	unsigned long err = first_err ? first_err : ERR_peek_last_error();
	if (err)
		ERR_error_string_n(err, e, sizeof(e));
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (vr != X509_V_OK)
		snprintf(buf, len, "%s%s%s", X509_verify_cert_error_string(vr), e[0] ? ": " : "",
		         e);
	else
		snprintf(buf, len, "%s", e[0] ? e : "connection closed");
	ERR_clear_error();
}
