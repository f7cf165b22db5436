#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "CCrypto.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

typedef struct hmac_state {
    SHA256_CTX inner;
    SHA256_CTX outer;
} hmac_state;

_Static_assert(sizeof(hmac_state) <= sizeof(((ccrypto_hmac_key *)0)->storage),
               "ccrypto_hmac_key storage too small for two SHA256_CTX");

void ccrypto_sha256(const void *data, size_t count, uint8_t out[CCRYPTO_SHA256_SIZE]) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, count);
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
}

void ccrypto_hmac_key_init(ccrypto_hmac_key *key, const void *secret, size_t count) {
    enum { block = SHA256_CBLOCK };
    unsigned char k[block];
    unsigned char pad[block];
    hmac_state *state = (hmac_state *)key->storage;

    // RFC 2104: a key longer than the block is hashed first.
    memset(k, 0, sizeof k);
    if (count > block) {
        ccrypto_sha256(secret, count, k);
    } else if (count > 0) {
        memcpy(k, secret, count);
    }

    for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&state->inner);
    SHA256_Update(&state->inner, pad, block);

    for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&state->outer);
    SHA256_Update(&state->outer, pad, block);

    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
}

void ccrypto_hmac_sha256(const ccrypto_hmac_key *key, const void *data, size_t count,
                         uint8_t out[CCRYPTO_SHA256_SIZE]) {
    const hmac_state *state = (const hmac_state *)key->storage;
    uint8_t inner_digest[CCRYPTO_SHA256_SIZE];
    SHA256_CTX ctx = state->inner;
    SHA256_Update(&ctx, data, count);
    SHA256_Final(inner_digest, &ctx);

    ctx = state->outer;
    SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
}

int ccrypto_equal(const void *a, const void *b, size_t count) {
    return CRYPTO_memcmp(a, b, count) == 0;
}

void ccrypto_hmac_key_clear(ccrypto_hmac_key *key) {
    OPENSSL_cleanse(key->storage, sizeof key->storage);
}
