#include "CRouting.h"

_Static_assert(sizeof(cr_header) == 16, "cr_header is expected to have no padding");

cr_parse_status cr_parse_header(const uint8_t *buf, size_t len, uint32_t max_body, cr_header *out) {
    // Checked byte by byte so that a peer speaking another protocol (an HTTP
    // request, a RESP command) is refused on its first bytes.
    if (len >= 1 && buf[0] != CR_MAGIC_0) return CR_PARSE_BAD_MAGIC;
    if (len >= 2 && buf[1] != CR_MAGIC_1) return CR_PARSE_BAD_MAGIC;
    if (len >= 3 && buf[2] != CR_VERSION) return CR_PARSE_BAD_VERSION;
    if (len < CR_HEADER_SIZE) return CR_PARSE_NEED_MORE;

    out->version = buf[2];
    out->opcode = buf[3];
    out->flags = cr_load_u16(buf + 4);
    out->status = cr_load_u16(buf + 6);
    out->request_id = cr_load_u32(buf + 8);
    out->body_length = cr_load_u32(buf + 12);
    if (out->body_length > max_body) return CR_PARSE_TOO_LARGE;
    return CR_PARSE_OK;
}

void cr_encode_header(uint8_t *out, const cr_header *h) {
    out[0] = CR_MAGIC_0;
    out[1] = CR_MAGIC_1;
    out[2] = CR_VERSION;
    out[3] = h->opcode;
    cr_store_u16(out + 4, h->flags);
    cr_store_u16(out + 6, h->status);
    cr_store_u32(out + 8, h->request_id);
    cr_store_u32(out + 12, h->body_length);
}
