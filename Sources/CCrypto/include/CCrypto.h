// CCrypto: SHA-256 and HMAC-SHA-256 over libcrypto without a heap allocation
// per call, and a constant-time comparison.
//
// OpenSSL 3's one-shot SHA256() and HMAC() go through EVP and allocate three
// times per call; the low-level SHA256_CTX API allocates nothing. An HMAC key
// is prepared once (inner and outer pads already absorbed), so a MAC of up
// to 55 bytes (an API key) costs exactly two SHA-256 compressions.
#ifndef SWITCHYARD_CCRYPTO_H
#define SWITCHYARD_CCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CCRYPTO_SHA256_SIZE 32

/* Opaque storage for two SHA256_CTX; its size is checked in the .c file so the
 * public header does not drag OpenSSL's deprecated declarations into Swift. */
typedef struct ccrypto_hmac_key {
    _Alignas(16) unsigned char storage[256];
} ccrypto_hmac_key;

void ccrypto_sha256(const void *data, size_t count, uint8_t out[CCRYPTO_SHA256_SIZE]);

void ccrypto_hmac_key_init(ccrypto_hmac_key *key, const void *secret, size_t count);

void ccrypto_hmac_sha256(const ccrypto_hmac_key *key, const void *data, size_t count,
                         uint8_t out[CCRYPTO_SHA256_SIZE]);

/* 1 when equal, 0 otherwise; the time depends only on count. */
int ccrypto_equal(const void *a, const void *b, size_t count);

/* Wipes the key material. */
void ccrypto_hmac_key_clear(ccrypto_hmac_key *key);

/* A public key for RS256 or ES256 (an EVP_PKEY; safe to share between
 * threads once read). */
typedef struct ccrypto_public_key ccrypto_public_key;

enum { CCRYPTO_KEY_UNSUPPORTED = 0, CCRYPTO_KEY_RSA = 1, CCRYPTO_KEY_EC_P256 = 2 };

/* The first PEM public key (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY") of the
 * text, or NULL when it holds none; *kind is one of CCRYPTO_KEY_*, *bits its
 * size. Free it with ccrypto_public_key_free. */
ccrypto_public_key *ccrypto_public_key_read_pem(const void *pem, size_t count, int *kind, int *bits);

void ccrypto_public_key_free(ccrypto_public_key *key);

/* 1 when signature is data's RSASSA-PKCS1-v1_5 SHA-256 signature under key. */
int ccrypto_verify_rs256(const ccrypto_public_key *key, const void *data, size_t count, const void *signature,
                         size_t signature_count);

/* 1 when signature (r and s, 32 bytes each, as JWS has them) is data's ECDSA
 * P-256 SHA-256 signature under key. */
int ccrypto_verify_es256(const ccrypto_public_key *key, const void *data, size_t count, const void *signature,
                         size_t signature_count);

#endif
