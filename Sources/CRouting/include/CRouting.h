// CRouting: the byte-level core of Switchyard protocol v1.
//
// Everything here works on caller-owned memory: no malloc, no I/O, no globals,
// so it can be fuzzed and benchmarked alone. All multi-byte integers on the
// wire are little-endian; conversion happens only in the load/store helpers
// below. docs/protocol.md is the normative description of these bytes.
#ifndef SWITCHYARD_CROUTING_H
#define SWITCHYARD_CROUTING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CR_MAGIC_0 0x53 /* 'S' */
#define CR_MAGIC_1 0x59 /* 'Y' */
#define CR_VERSION 1
#define CR_HEADER_SIZE 16

/* Header flag bits. Requests carry none of them. */
#define CR_FLAG_REPLY 0x0001u /* set on every frame the server sends */
#define CR_FLAG_CLOSE 0x0002u /* the server closes the connection after this frame */

typedef struct cr_header {
    uint8_t version;
    uint8_t opcode;
    uint16_t flags;
    uint16_t status;
    uint32_t request_id;
    uint32_t body_length;
} cr_header;

/* Tri-state result, after memcached's try_read_command_binary: complete,
 * wait for more bytes, or a stream that can no longer be trusted. */
typedef enum cr_parse_status {
    CR_PARSE_OK = 0,
    CR_PARSE_NEED_MORE = 1,
    CR_PARSE_BAD_MAGIC = -1,
    CR_PARSE_BAD_VERSION = -2,
    CR_PARSE_TOO_LARGE = -3,
} cr_parse_status;

/* Parses the header at buf. Magic and version are checked as soon as their
 * bytes are present, so garbage is refused without waiting for 16 bytes.
 * On CR_PARSE_OK, *out is filled and the whole frame is
 * CR_HEADER_SIZE + out->body_length bytes, which may be more than len. */
cr_parse_status cr_parse_header(const uint8_t *buf, size_t len, uint32_t max_body, cr_header *out);

/* Writes the 16 header bytes of h to out (version and magic included). */
void cr_encode_header(uint8_t *out, const cr_header *h);

/* ---- Little-endian load/store -------------------------------------------------- */

static inline uint16_t cr_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    return v;
}

static inline uint32_t cr_load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t cr_load_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void cr_store_u16(uint8_t *p, uint16_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    memcpy(p, &v, sizeof v);
}

static inline void cr_store_u32(uint8_t *p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, sizeof v);
}

static inline void cr_store_u64(uint8_t *p, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, sizeof v);
}

/* ---- Body fields ------------------------------------------------------------------
 * A reader or writer walks a body field by field. A read past the end or a
 * write past capacity sets `failed` and turns every later call into a no-op,
 * so a caller checks once, after the last field. */

typedef struct cr_reader {
    const uint8_t *cursor;
    const uint8_t *end;
    int failed;
} cr_reader;

typedef struct cr_bytes {
    const uint8_t *start;
    size_t count;
} cr_bytes;

static inline cr_reader cr_reader_make(const uint8_t *start, size_t count) {
    cr_reader r = {start, start + count, 0};
    return r;
}

static inline int cr_reader_take(cr_reader *r, size_t n, const uint8_t **at) {
    if (r->failed || (size_t)(r->end - r->cursor) < n) {
        r->failed = 1;
        return 0;
    }
    *at = r->cursor;
    r->cursor += n;
    return 1;
}

static inline uint8_t cr_read_u8(cr_reader *r) {
    const uint8_t *p;
    return cr_reader_take(r, 1, &p) ? p[0] : 0;
}

static inline uint16_t cr_read_u16(cr_reader *r) {
    const uint8_t *p;
    return cr_reader_take(r, 2, &p) ? cr_load_u16(p) : 0;
}

static inline uint32_t cr_read_u32(cr_reader *r) {
    const uint8_t *p;
    return cr_reader_take(r, 4, &p) ? cr_load_u32(p) : 0;
}

static inline uint64_t cr_read_u64(cr_reader *r) {
    const uint8_t *p;
    return cr_reader_take(r, 8, &p) ? cr_load_u64(p) : 0;
}

/* str8: one length byte, then that many bytes. */
static inline cr_bytes cr_read_str8(cr_reader *r) {
    cr_bytes b = {NULL, 0};
    const uint8_t *p;
    size_t n = cr_read_u8(r);
    if (!r->failed && cr_reader_take(r, n, &p)) {
        b.start = p;
        b.count = n;
    }
    return b;
}

/* str16: a u16 length, then that many bytes. */
static inline cr_bytes cr_read_str16(cr_reader *r) {
    cr_bytes b = {NULL, 0};
    const uint8_t *p;
    size_t n = cr_read_u16(r);
    if (!r->failed && cr_reader_take(r, n, &p)) {
        b.start = p;
        b.count = n;
    }
    return b;
}

/* addr: a family byte (0 none, 4 IPv4, 6 IPv6), then 0, 4 or 16 bytes in
 * network order. Any other family fails the reader. */
static inline cr_bytes cr_read_addr(cr_reader *r) {
    cr_bytes b = {NULL, 0};
    const uint8_t *p;
    uint8_t family = cr_read_u8(r);
    size_t n = family == 0 ? 0 : family == 4 ? 4 : family == 6 ? 16 : (size_t)-1;
    if (r->failed) {
        return b;
    }
    if (n == (size_t)-1) {
        r->failed = 1;
        return b;
    }
    if (n > 0 && cr_reader_take(r, n, &p)) {
        b.start = p;
        b.count = n;
    }
    return b;
}

/* The rest of the body, whatever its length. */
static inline cr_bytes cr_read_rest(cr_reader *r) {
    cr_bytes b = {r->cursor, (size_t)(r->end - r->cursor)};
    if (r->failed) {
        b.count = 0;
    }
    r->cursor = r->end;
    return b;
}


typedef struct cr_writer {
    uint8_t *cursor;
    uint8_t *end;
    int failed;
} cr_writer;

static inline cr_writer cr_writer_make(uint8_t *start, size_t capacity) {
    cr_writer w = {start, start + capacity, 0};
    return w;
}

static inline uint8_t *cr_writer_take(cr_writer *w, size_t n) {
    if (w->failed || (size_t)(w->end - w->cursor) < n) {
        w->failed = 1;
        return NULL;
    }
    uint8_t *p = w->cursor;
    w->cursor += n;
    return p;
}

static inline void cr_write_u8(cr_writer *w, uint8_t v) {
    uint8_t *p = cr_writer_take(w, 1);
    if (p) p[0] = v;
}

static inline void cr_write_u16(cr_writer *w, uint16_t v) {
    uint8_t *p = cr_writer_take(w, 2);
    if (p) cr_store_u16(p, v);
}

static inline void cr_write_u32(cr_writer *w, uint32_t v) {
    uint8_t *p = cr_writer_take(w, 4);
    if (p) cr_store_u32(p, v);
}

static inline void cr_write_u64(cr_writer *w, uint64_t v) {
    uint8_t *p = cr_writer_take(w, 8);
    if (p) cr_store_u64(p, v);
}

static inline void cr_write_raw(cr_writer *w, const void *bytes, size_t n) {
    uint8_t *p = cr_writer_take(w, n);
    if (p && n) memcpy(p, bytes, n);
}

/* A str8 longer than 255 bytes cannot be encoded: the writer fails instead
 * of truncating. */
static inline void cr_write_str8(cr_writer *w, const void *bytes, size_t n) {
    if (n > UINT8_MAX) {
        w->failed = 1;
        return;
    }
    cr_write_u8(w, (uint8_t)n);
    cr_write_raw(w, bytes, n);
}

/* One ROUTE reply entry (str8 gateway, u16 reason, u32 success rate, u32
 * latency, u32 score) with one bounds check instead of five: a DECIDE writes
 * four of them. Fails the writer like the field writes do. */
static inline void cr_write_route_entry(cr_writer *w, const void *gateway, size_t n, uint16_t reason,
                                        uint32_t success_rate_ppm, uint32_t latency_ms, uint32_t score_ppm) {
    if (n > UINT8_MAX) {
        w->failed = 1;
        return;
    }
    uint8_t *p = cr_writer_take(w, 1 + n + 2 + 4 + 4 + 4);
    if (!p) return;
    p[0] = (uint8_t)n;
    if (n) memcpy(p + 1, gateway, n);
    p += 1 + n;
    cr_store_u16(p, reason);
    cr_store_u32(p + 2, success_rate_ppm);
    cr_store_u32(p + 6, latency_ms);
    cr_store_u32(p + 10, score_ppm);
}

static inline void cr_write_str16(cr_writer *w, const void *bytes, size_t n) {
    if (n > UINT16_MAX) {
        w->failed = 1;
        return;
    }
    cr_write_u16(w, (uint16_t)n);
    cr_write_raw(w, bytes, n);
}

#ifdef __cplusplus
}
#endif

#endif
