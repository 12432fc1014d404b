/* Internal side of model persistence (src/io/model_io.c).  The public
 * functions are recnn_model_save / recnn_model_load in
 * include/recnn/model.h; the file format is docs/MODEL_FORMAT.md. */
#ifndef RECNN_IO_IO_H
#define RECNN_IO_IO_H

#include "../models/model.h"

/* Format constants (docs/MODEL_FORMAT.md). */
#define RECNN__MODEL_MAGIC "RECNNMDL"
#define RECNN__MODEL_FORMAT_VERSION 1u
#define RECNN__MODEL_ENDIAN_MARK 0x01020304u
#define RECNN__MODEL_HEADER_BYTES 24

/* Loads a model from a complete file image in memory (the bytes are
 * borrowed and only read).  Same contract as recnn_model_load: on failure
 * *out is NULL and the status is RECNN_E_CORRUPT / _VERSION / _FORMAT /
 * _NOTFOUND / _NOMEM.  Used by the fuzz target and the tests. */
int recnn__model_load_mem(recnn_model **out, const void *data, size_t size);

/* Test hook: when >= 0, the next saves fail with RECNN_E_IO once this many
 * bytes have been written to the temporary file (simulates a full disk).
 * -1 (the default) disables it.  Process-wide; tests only. */
void recnn__io_inject_write_failure(int64_t after_bytes);

#endif
