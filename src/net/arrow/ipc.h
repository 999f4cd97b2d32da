/* ipc.h — Arrow IPC (columnar format, metadata V5) writer and reader over the Arrow C Data
 * Interface of rhei.h: Schema and RecordBatch messages, 8-byte padded bodies, optional
 * ZSTD/LZ4_FRAME body compression, and row slicing so a message stays under a size bound.
 * Body buffers are referenced, not copied, when they need no rewrite (offsets that start at
 * 0, bitmaps on a byte boundary, no compression): the source array must outlive the message.
 * The reader (ipc_read.c) checks every offset of untrusted input before it is used. */
#ifndef RHEI_NET_IPC_H
#define RHEI_NET_IPC_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

enum { IPC_COMP_NONE = 0, IPC_COMP_LZ4 = 1, IPC_COMP_ZSTD = 2 };

#define IPC_ERR_MAX 256
#define IPC_TARGET_BYTES ((int64_t)2 << 20)       /* preferred body size of one batch */
#define IPC_MAX_MESSAGE ((int64_t)(7u << 19))     /* 3.5 MiB: tonic refuses > 4 MiB */

typedef struct ipc_piece {
    const void *p;
    size_t n;
} ipc_piece;

/* One message: its flatbuffer metadata (owned, length a multiple of 8) and its body as
 * pieces (each already padded to 8 bytes), some borrowed from the source array. */
typedef struct ipc_msg {
    uint8_t *meta;
    size_t meta_len;
    ipc_piece *pieces;
    size_t npieces, piececap;
    size_t body_len;
    void **owned; /* allocations the pieces point into */
    size_t nowned, ownedcap;
} ipc_msg;

void ipc_msg_free(ipc_msg *m);

/* Schema message for a record batch schema: `schema` is a struct ("+s") whose children are
 * the columns. Returns 0, or -1 with a reason in err. */
int ipc_schema_msg(const struct ArrowSchema *schema, ipc_msg *out, char *err);
/* RecordBatch message for rows [off, off + len) of the struct array `batch`. */
int ipc_batch_msg(const struct ArrowSchema *schema, const struct ArrowArray *batch, int64_t off,
                  int64_t len, int codec, ipc_msg *out, char *err);
/* Uncompressed body bytes of rows [off, off + len) (padding included). -1 if the schema has a
 * type the writer does not support. */
int64_t ipc_batch_bytes(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                        int64_t off, int64_t len);
/* How many rows from `start` make a body of at most `target` bytes (at least 1). */
int64_t ipc_rows_fitting(const struct ArrowSchema *schema, const struct ArrowArray *batch,
                         int64_t start, int64_t target);
/* The encapsulated form: 0xFFFFFFFF, int32 metadata length, metadata, body. Heap-owned. */
int ipc_encapsulate(const ipc_msg *m, uint8_t **out, size_t *out_len);

/* --- reader (ipc_read.c) -------------------------------------------------------------------
 * Decodes one Schema message (flatbuffer bytes) into an ArrowSchema ("+s" with one child per
 * field), and one RecordBatch message plus its body into a struct ArrowArray that owns copies
 * of its buffers. Both release themselves through their release callbacks. Supports the flat
 * types the writer writes (no nested types: parameters are flat). Untrusted input: -1 with a
 * reason for anything malformed, never a read outside the given bytes. */
int ipc_read_schema(const uint8_t *meta, size_t len, struct ArrowSchema *out, char *err);
int ipc_read_batch(const struct ArrowSchema *schema, const uint8_t *meta, size_t meta_len,
                   const uint8_t *body, size_t body_len, struct ArrowArray *out, char *err);
/* Message type of a metadata flatbuffer: 1 schema, 3 record batch, 0/-1 other/malformed. */
int ipc_message_type(const uint8_t *meta, size_t len);
#endif
