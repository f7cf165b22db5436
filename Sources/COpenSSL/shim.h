#ifndef SWITCHYARD_COPENSSL_SHIM_H
#define SWITCHYARD_COPENSSL_SHIM_H
// libcrypto only; TLS termination will add openssl/ssl.h and link "ssl".
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#endif
