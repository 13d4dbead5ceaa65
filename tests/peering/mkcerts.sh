#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mkcerts.sh DIR REGION...: a test PKI made with the openssl CLI (docs/protocol.md §1).
#   DIR/ca.{crt,key}                 the CA every region trusts
#   DIR/REGION.{crt,key}             one certificate per region, SAN URI:tidal:region:REGION
#   DIR/evil-ca.crt, DIR/evil-REGION.{crt,key}   same name, signed by another CA
#   DIR/expired-REGION.{crt,key}     valid name and CA, validity ended in 2020
#   DIR/nosan-REGION.{crt,key}       CA-signed, region only in the CN (no URI SAN)
# Only the first REGION gets the evil/expired/nosan variants.
set -euo pipefail
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
mkca() { # name
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=tidal test $1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$1.crt" 2>/dev/null
}
ext() { # region
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:tidal:region:%s,DNS:%s.gw.example\n' "$1" "$1"
}
mkcert() { # out ca region [days]
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -sha256 \
		-days "${4:-30}" -extfile <(ext "$3") -out "$1.crt" 2>/dev/null
	rm -f "$1.csr"
}
mkca ca
mkca evil-ca
for r in "$@"; do
	mkcert "$r" ca "$r"
done
first=$1
mkcert "evil-$first" evil-ca "$first"
# Expired: openssl ca can set explicit dates in the past.
key "expired-$first.key"
openssl req -new -key "expired-$first.key" -subj "/CN=$first" -out expired.csr 2>/dev/null
mkdir -p ca-db
: >ca-db/index.txt
echo 01 >ca-db/serial
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
$(ext "$first")
CNF
openssl ca -batch -config ca-db/ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
	-startdate 20200101000000Z -enddate 20200201000000Z -out "expired-$first.crt" \
	>/dev/null 2>&1
rm -f expired.csr
# No URI SAN: identity only in the subject.
key "nosan-$first.key"
openssl req -new -key "nosan-$first.key" -subj "/CN=$first" -out nosan.csr 2>/dev/null
openssl x509 -req -in nosan.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 30 \
	-extfile <(printf 'subjectAltName=DNS:%s.gw.example\n' "$first") \
	-out "nosan-$first.crt" 2>/dev/null
rm -f nosan.csr
