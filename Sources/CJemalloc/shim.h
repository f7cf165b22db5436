#ifndef SWITCHYARD_CJEMALLOC_SHIM_H
#define SWITCHYARD_CJEMALLOC_SHIM_H
// Debian builds jemalloc without a symbol prefix, so linking it replaces the
// process's malloc/free; mallctl is what proves the binding at run time.
#include <jemalloc/jemalloc.h>
#endif
