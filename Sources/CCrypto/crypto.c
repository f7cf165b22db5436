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

static void store_be32(unsigned char *to, uint32_t word) {
    to[0] = (unsigned char)(word >> 24);
    to[1] = (unsigned char)(word >> 16);
    to[2] = (unsigned char)(word >> 8);
    to[3] = (unsigned char)word;
}

void ccrypto_hmac_sha256(const ccrypto_hmac_key *key, const void *data, size_t count,
                         uint8_t out[CCRYPTO_SHA256_SIZE]) {
    enum { block = SHA256_CBLOCK, length_bytes = 8 };
    const hmac_state *state = (const hmac_state *)key->storage;

    if (count > block - 1 - length_bytes) {
        uint8_t inner_digest[CCRYPTO_SHA256_SIZE];
        SHA256_CTX ctx = state->inner;
        SHA256_Update(&ctx, data, count);
        SHA256_Final(inner_digest, &ctx);

        ctx = state->outer;
        SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
        SHA256_Final(out, &ctx);
        OPENSSL_cleanse(&ctx, sizeof ctx);
        OPENSSL_cleanse(inner_digest, sizeof inner_digest);
        return;
    }

    // An API key fits one padded block. Then each half of the HMAC is one
    // compression of a block built here: SHA256_Update/Final would copy the
    // data into the context, pad it there and wipe it, which costs about as
    // much as the SHA-NI compression itself. Only the chaining values of
    // the prepared contexts are used.
    SHA256_CTX ctx;
    unsigned char buffer[block];
    uint64_t bits = (uint64_t)(block + count) * 8;

    memcpy(ctx.h, state->inner.h, sizeof ctx.h);
    if (count > 0) memcpy(buffer, data, count);
    buffer[count] = 0x80;
    memset(buffer + count + 1, 0, block - length_bytes - count - 1);
    store_be32(buffer + block - 8, (uint32_t)(bits >> 32));
    store_be32(buffer + block - 4, (uint32_t)bits);
    SHA256_Transform(&ctx, buffer);

    // The outer block: the inner digest, padding, and the length of pad + digest.
    for (int i = 0; i < 8; i++) store_be32(buffer + 4 * i, ctx.h[i]);
    buffer[CCRYPTO_SHA256_SIZE] = 0x80;
    memset(buffer + CCRYPTO_SHA256_SIZE + 1, 0, block - length_bytes - CCRYPTO_SHA256_SIZE - 1);
    bits = (uint64_t)(block + CCRYPTO_SHA256_SIZE) * 8;
    store_be32(buffer + block - 8, (uint32_t)(bits >> 32));
    store_be32(buffer + block - 4, (uint32_t)bits);
    memcpy(ctx.h, state->outer.h, sizeof ctx.h);
    SHA256_Transform(&ctx, buffer);

    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, ctx.h[i]);
    // The block held the presented key; the inner state is a function of it.
    explicit_bzero(buffer, sizeof buffer);
    explicit_bzero(ctx.h, sizeof ctx.h);
}

int ccrypto_equal(const void *a, const void *b, size_t count) {
    // Every byte is read whatever the ones before it held (no early exit),
    // eight at a time: CRYPTO_memcmp goes byte by byte, several times slower
    // over a token of a few hundred bytes.
    const unsigned char *x = a;
    const unsigned char *y = b;
    uint64_t difference = 0;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        uint64_t u;
        uint64_t v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        difference |= u ^ v;
    }
    for (; i < count; i++) difference |= (uint64_t)(x[i] ^ y[i]);
    return difference == 0;
}

void ccrypto_hmac_key_clear(ccrypto_hmac_key *key) {
    OPENSSL_cleanse(key->storage, sizeof key->storage);
}
