#ifndef SWITCHYARD_CHIREDIS_SHIM_H
#define SWITCHYARD_CHIREDIS_SHIM_H
// Debian's hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses as a
// prohibited flag; the header path needs no -I, so no pkgConfig is declared.
#include <hiredis/hiredis.h>
#endif
