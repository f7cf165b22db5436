// RS256 and ES256 signature checks over libcrypto's EVP_PKEY.
//
// The message is hashed here with the low-level SHA-256 (no allocation);
// only the public-key operation goes through EVP, whose context OpenSSL 3
// allocates per call. That costs a few hundred nanoseconds beside the tens of
// microseconds of the operation itself, and verified tokens are cached.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "CCrypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

ccrypto_public_key *ccrypto_public_key_read_pem(const void *pem, size_t count, int *kind, int *bits) {
    *kind = CCRYPTO_KEY_UNSUPPORTED;
    *bits = 0;
    if (count > INT32_MAX) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)count);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (key == NULL) return NULL;
    *bits = EVP_PKEY_get_bits(key);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
        *kind = CCRYPTO_KEY_RSA;
    } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        char group[32];
        size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) == 1 &&
            strcmp(group, "prime256v1") == 0) {
            *kind = CCRYPTO_KEY_EC_P256;
        }
        ERR_clear_error();
    }
    return (ccrypto_public_key *)key;
}

void ccrypto_public_key_free(ccrypto_public_key *key) { EVP_PKEY_free((EVP_PKEY *)key); }

// A DER INTEGER of a big-endian unsigned value: leading zeros dropped, one
// put back when the top bit is set (it would read as negative).
static size_t der_integer(const uint8_t *value, size_t count, uint8_t *out) {
    while (count > 1 && value[0] == 0) {
        value++;
        count--;
    }
    size_t pad = (value[0] & 0x80) ? 1 : 0;
    out[0] = 0x02;
    out[1] = (uint8_t)(count + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, value, count);
    return 2 + pad + count;
}

static int verify_digest(const ccrypto_public_key *key, int rsa, const uint8_t digest[CCRYPTO_SHA256_SIZE],
                         const uint8_t *signature, size_t signature_count) {
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new((EVP_PKEY *)key, NULL);
    if (context == NULL) return 0;
    int ok = EVP_PKEY_verify_init(context) == 1 && EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()) == 1 &&
             (!rsa || EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1) &&
             EVP_PKEY_verify(context, signature, signature_count, digest, CCRYPTO_SHA256_SIZE) == 1;
    EVP_PKEY_CTX_free(context);
    // A failed check leaves errors on the thread's queue; they would pile up.
    ERR_clear_error();
    return ok;
}

int ccrypto_verify_rs256(const ccrypto_public_key *key, const void *data, size_t count, const void *signature,
                         size_t signature_count) {
    uint8_t digest[CCRYPTO_SHA256_SIZE];
    ccrypto_sha256(data, count, digest);
    return verify_digest(key, 1, digest, signature, signature_count);
}

int ccrypto_verify_es256(const ccrypto_public_key *key, const void *data, size_t count, const void *signature,
                         size_t signature_count) {
    // JWS carries r and s as two 32-byte halves (RFC 7518 3.4); OpenSSL
    // takes the DER SEQUENCE of two INTEGERs.
    if (signature_count != 64) return 0;
    const uint8_t *raw = signature;
    uint8_t der[2 + 2 * 35];
    size_t length = der_integer(raw, 32, der + 2);
    length += der_integer(raw + 32, 32, der + 2 + length);
    der[0] = 0x30;
    der[1] = (uint8_t)length;
    uint8_t digest[CCRYPTO_SHA256_SIZE];
    ccrypto_sha256(data, count, digest);
    return verify_digest(key, 0, digest, der, length + 2);
}
