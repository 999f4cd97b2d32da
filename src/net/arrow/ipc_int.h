/* ipc_int.h — what the files of the IPC module share: Type union tags, message header tags
 * and the message envelope builder. */
#ifndef RHEI_NET_IPC_INT_H
#define RHEI_NET_IPC_INT_H
#include "fb.h"
#include "ipc.h"

#define IPC_MAX_DEPTH 64

enum {
    IPC_T_NULL = 1, IPC_T_INT = 2, IPC_T_FLOAT = 3, IPC_T_BINARY = 4, IPC_T_UTF8 = 5,
    IPC_T_BOOL = 6, IPC_T_DECIMAL = 7, IPC_T_DATE = 8, IPC_T_TIME = 9, IPC_T_TIMESTAMP = 10,
    IPC_T_INTERVAL = 11, IPC_T_LIST = 12, IPC_T_STRUCT = 13, IPC_T_UNION = 14,
    IPC_T_FIXED_BINARY = 15, IPC_T_FIXED_LIST = 16, IPC_T_MAP = 17, IPC_T_DURATION = 18,
    IPC_T_LARGE_BINARY = 19, IPC_T_LARGE_UTF8 = 20, IPC_T_LARGE_LIST = 21
};
enum { IPC_MSG_SCHEMA = 1, IPC_MSG_BATCH = 3 };

/* Formats a reason into err (IPC_ERR_MAX bytes, may be NULL); returns -1. */
int ipc_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ipc_finish_message(fb_builder *b, uint8_t header_type, fb_ref header, int64_t body_len,
                       ipc_msg *out, char *err);
#endif
