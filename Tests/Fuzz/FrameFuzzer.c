// libFuzzer harness for the C frame parser (Sources/CRouting): any bytes
// as a frame header, then the body read field by field with every reader
// the request decoders use. Under AddressSanitizer, a read past the input
// is a crash; the checks below are the parser's promises.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CRouting.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cr_header header;
    cr_parse_status status = cr_parse_header(data, size, 16384, &header);
    if (status != CR_PARSE_OK) return 0;
    if (size < CR_HEADER_SIZE) abort();
    // A parsed header encodes back to the same 16 bytes.
    uint8_t encoded[CR_HEADER_SIZE];
    cr_encode_header(encoded, &header);
    if (memcmp(encoded, data, CR_HEADER_SIZE) != 0) abort();
    if (header.body_length > 16384) abort();

    // The body as far as the input holds it, in a buffer of its own size:
    // a read past it is a heap overflow ASan reports.
    size_t available = size - CR_HEADER_SIZE;
    size_t count = header.body_length < available ? header.body_length : available;
    uint8_t *body = malloc(count ? count : 1);
    memcpy(body, data + CR_HEADER_SIZE, count);
    cr_reader reader = cr_reader_make(body, count);
    // Every field kind, in an order the input's first byte picks.
    uint8_t plan = count ? body[0] : 0;
    for (int step = 0; step < 32 && !reader.failed; step++) {
        switch ((plan + step) % 8) {
        case 0: (void)cr_read_u8(&reader); break;
        case 1: (void)cr_read_u16(&reader); break;
        case 2: (void)cr_read_u32(&reader); break;
        case 3: (void)cr_read_u64(&reader); break;
        case 4: { cr_bytes b = cr_read_str8(&reader); if (b.count > 255) abort(); break; }
        case 5: { cr_bytes b = cr_read_str16(&reader); if (b.count > 65535) abort(); break; }
        case 6: { cr_bytes b = cr_read_addr(&reader); if (b.count != 0 && b.count != 4 && b.count != 16 && !reader.failed) abort(); break; }
        default: { cr_bytes b = cr_read_rest(&reader); if (b.count > count) abort(); break; }
        }
    }
    free(body);
    return 0;
}
